"""Stack names: the contract between the CDKTF app, the pipelines and data_bootstrap.

Cheap to import (no cdktf), so the Argo renderer and the bootstrap CLI use it too.
"""

from __future__ import annotations

NETWORK = "network"
ML_PLATFORM = "mlplatform"
# Deployment order: the ML platform stack reads the network stack's outputs through remote state.
STACK_KINDS = (NETWORK, ML_PLATFORM)


def stack_name(kind: str, environment: str) -> str:
    """``<kind>-<environment>``; ``environment`` may also be an Argo parameter expression."""
    return f"{kind}-{environment}"


# --- Jobs and their identities (contract between the stacks, the Argo renderer and the GitHub workflow) ---
# One user-assigned identity per job and environment. The in-cluster jobs run as a Kubernetes
# ServiceAccount named by ``service_account_name`` in ``[runners].namespace``; their federated
# subject is ``system:serviceaccount:<namespace>:<service account>``. ``github-plan`` runs in the
# pull-request workflow (subjects for the repository's pull_request and main).
INFRA_PLAN = "infra-plan"
INFRA_APPLY = "infra-apply"
DATA_BOOTSTRAP = "data-bootstrap"
SECRETS_READER = "secrets-reader"
GITHUB_PLAN = "github-plan"
CLUSTER_JOBS = (INFRA_PLAN, INFRA_APPLY, DATA_BOOTSTRAP, SECRETS_READER)
JOBS = (*CLUSTER_JOBS, GITHUB_PLAN)


def service_account_name(job: str, environment: str) -> str:
    """Kubernetes ServiceAccount of an in-cluster job for one environment: ``<job>-<environment>``."""
    if job not in CLUSTER_JOBS:
        raise ValueError(f"{job!r} is not an in-cluster job (one of {', '.join(CLUSTER_JOBS)})")
    return f"{job}-{environment}"
