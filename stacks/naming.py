"""Stack names: the contract between the CDKTF app, the pipelines and data_bootstrap.

Cheap to import (no cdktf), so the Argo renderer and the bootstrap CLI use it too.
"""

from __future__ import annotations

ACCESS = "access"
NETWORK = "network"
ML_PLATFORM = "mlplatform"
# Deployment order. ``access`` (the platform resource group, the runner identities and their
# grants) is applied first, once by an Owner; the network stack needs its resource group and the
# runner-VNet rights it grants; the ML platform stack reads the network stack's outputs through
# remote state and the identities' principal IDs from ``access``.
STACK_KINDS = (ACCESS, NETWORK, ML_PLATFORM)


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
# The Argo server reads the artifact repository (logs and artifacts in the UI). Its ServiceAccount
# comes with the Argo install (``[runners].argo_server_service_account``), not from pipelines/.
ARGO_SERVER = "argo-server"
JOBS_WITH_IDENTITY = (*JOBS, ARGO_SERVER)
# Stacks the pipelines plan and apply; ``access`` is applied by an Owner only (docs/access.md).
PIPELINE_STACK_KINDS = (NETWORK, ML_PLATFORM)
# Key Vault secrets External Secrets syncs from the automation vault (secrets-reader may read
# exactly these): the git clone credentials and the GitHub webhook secret.
AUTOMATION_SECRETS = ("github-clone-username", "github-clone-token", "github-webhook-secret")


def service_account_name(job: str, environment: str) -> str:
    """Kubernetes ServiceAccount of an in-cluster job for one environment: ``<job>-<environment>``."""
    if job not in CLUSTER_JOBS:
        raise ValueError(f"{job!r} is not an in-cluster job (one of {', '.join(CLUSTER_JOBS)})")
    return f"{job}-{environment}"


# Federated subjects (what each identity trusts). Kubernetes workload identity: the cluster's
# OIDC issuer signs tokens whose subject is ``system:serviceaccount:<namespace>:<name>``
# (https://learn.microsoft.com/azure/aks/workload-identity-overview). GitHub Actions: the issuer
# and subject claims of GitHub's OIDC token
# (https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect).
GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com"
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"


def kubernetes_subject(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


def cluster_job_subject(job: str, environment: str, namespace: str) -> str:
    """Federated subject of an in-cluster job's identity: its ServiceAccount in ``[runners].namespace``."""
    return kubernetes_subject(namespace, service_account_name(job, environment))


def github_subjects(repository: str) -> dict[str, str]:
    """Subjects the pull-request workflow presents (no GitHub environment): PRs and pushes to main."""
    return {"pull-request": f"repo:{repository}:pull_request", "main": f"repo:{repository}:ref:refs/heads/main"}


# GitHub repository variables the pull-request workflow reads (ids, not secrets). The stack's
# outputs say which value goes into which variable; tests/github checks the workflow uses these.
GITHUB_TENANT_VARIABLE = "AZURE_TENANT_ID"


def github_client_id_variable(environment: str) -> str:
    return f"AZURE_CLIENT_ID_{environment.upper()}"


def github_subscription_variable(environment: str) -> str:
    return f"AZURE_SUBSCRIPTION_ID_{environment.upper()}"


# Where the pull-request plan of an environment runs (the workflow's matrix ``runner``). A
# remote-state environment's state account is reachable only from the runner VNet, so its plan
# runs on an ephemeral self-hosted runner there: an Actions Runner Controller scale set whose
# installation name is the ``runs-on`` label (https://docs.github.com/actions/how-tos/manage-runners/use-actions-runner-controller/use-arc-in-a-workflow).
# A local-state environment has no shared state to plan against; a GitHub-hosted runner says so.
GITHUB_HOSTED_RUNNER = "ubuntu-24.04"


def github_plan_runner(environment: str, *, remote_state: bool) -> str:
    return f"arc-plan-{environment}" if remote_state else GITHUB_HOSTED_RUNNER


def identity_name(project: str, job: str, environment: str) -> str:
    """Azure name of a job's user-assigned identity: ``id-<project>-<job>-<environment>``."""
    return f"id-{project}-{job}-{environment}"
