"""Identities and least-privilege RBAC.

Workloads: one workload-identity ServiceAccount per in-cluster job and environment,
``<job>-<env>`` (stacks.naming.service_account_name), carrying the managed identity's client id;
no client secret exists anywhere. None mounts a Kubernetes API token: Argo's executor uses the
``argo-executor`` account's token instead (see pipelines/steps.py).

People: submitting a run and approving one are separate Roles bound to separate Entra groups,
for the Kubernetes API (``kubectl``/``argo`` CLI against the cluster) and for the Argo Server's
SSO RBAC (a ServiceAccount per role, chosen by its ``workflows.argoproj.io/rbac-rule``:
argo-workflows v4.1.2 docs/argo-server-sso.md). Submitters create; approvers update (resume and
``node set`` are workflow updates: workflow/util/util.go updateSuspendedNode); neither may do both.
"""

from __future__ import annotations

from typing import Any

from pipelines.settings import Environment, Settings
from pipelines.steps import ENVIRONMENTS_CONFIGMAP, EXECUTOR_ACCOUNT, LABELS, account
from stacks.naming import CLUSTER_JOBS, DATA_BOOTSTRAP, INFRA_PLAN

SENSOR_ACCOUNT = "infra-sensor"
EVENTSOURCE_ACCOUNT = "github-events"
SUBMITTER = "workflow-submitter"
APPROVER = "workflow-approver"
ARTIFACT_GC = "artifact-gc"

_ARGO = "argoproj.io"
_READ = ["get", "list", "watch"]
# What Argo's executor needs: report step results ("the minimum for the executor to function",
# argo-workflows v4.1.2 docs/workflow-rbac.md).
EXECUTOR_RULES = [{"apiGroups": [_ARGO], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}]
# What an artifact GC pod needs (argo-workflows v4.1.2 docs/walk-through/artifacts.md, artifact GC).
ARTIFACT_GC_RULES = [
    {"apiGroups": [_ARGO], "resources": ["workflowartifactgctasks"], "verbs": ["list", "watch"]},
    {"apiGroups": [_ARGO], "resources": ["workflowartifactgctasks/status"], "verbs": ["patch"]},
]
SENSOR_RULES = [{"apiGroups": [_ARGO], "resources": ["workflows"], "verbs": ["create"]}]
_SEE_RUNS = [
    {"apiGroups": [_ARGO], "resources": ["workflowtemplates", "cronworkflows"], "verbs": _READ},
    {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": _READ},
]
SUBMITTER_RULES = [
    {"apiGroups": [_ARGO], "resources": ["workflows"], "verbs": ["create", *_READ]},
    *_SEE_RUNS,
]
APPROVER_RULES = [
    {"apiGroups": [_ARGO], "resources": ["workflows"], "verbs": [*_READ, "update", "patch"]},
    *_SEE_RUNS,
]


def _metadata(settings: Settings, name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": settings.namespace, "labels": LABELS, **extra}


def service_account(
    settings: Settings,
    name: str,
    *,
    client_id: str | None = None,
    api_access: bool = False,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ServiceAccount whose token pods mount only with ``api_access``; with a client id, a workload identity."""
    annotations = annotations or {}
    if client_id is not None:
        # ESO reads the tenant from this annotation: the SecretStore must not repeat it (external_secrets.py).
        annotations = {
            "azure.workload.identity/client-id": client_id,
            "azure.workload.identity/tenant-id": settings.tenant_id,
            **annotations,
        }
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(settings, name, **({"annotations": annotations} if annotations else {})),
        "automountServiceAccountToken": api_access,
    }


def token_secret(settings: Settings, name: str) -> dict[str, Any]:
    """The long-lived token Argo looks up as ``<account>.service-account-token`` (docs/service-account-secrets.md).

    Kubernetes fills it in; the manifest holds no secret value.
    """
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(
            settings, f"{name}.service-account-token", annotations={"kubernetes.io/service-account.name": name}
        ),
        "type": "kubernetes.io/service-account-token",
    }


def role_with_binding(
    settings: Settings, name: str, rules: list[dict[str, Any]], subjects: list[dict[str, str]]
) -> list[dict[str, Any]]:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _metadata(settings, name)}
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _metadata(settings, name),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": subjects,
    }
    return [{**role, "rules": rules}, binding]


def _accounts(settings: Settings, *names: str) -> list[dict[str, str]]:
    return [{"kind": "ServiceAccount", "name": name, "namespace": settings.namespace} for name in names]


def _group(group: str) -> dict[str, str]:
    return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": group}


def job_accounts(settings: Settings, env: Environment) -> list[dict[str, Any]]:
    return [service_account(settings, account(job, env), client_id=env.client_ids[job]) for job in CLUSTER_JOBS]


def people(settings: Settings) -> list[dict[str, Any]]:
    """Submit and approve Roles, each bound to its group and to an Argo Server SSO account."""
    objects: list[dict[str, Any]] = []
    for name, rules, group, precedence in (
        (SUBMITTER, SUBMITTER_RULES, settings.submitters_group, "1"),
        (APPROVER, APPROVER_RULES, settings.approvers_group, "2"),
    ):
        rule = {
            "workflows.argoproj.io/rbac-rule": f"'{group}' in groups",
            "workflows.argoproj.io/rbac-rule-precedence": precedence,
        }
        objects += [
            service_account(settings, name, annotations=rule),
            token_secret(settings, name),
            *role_with_binding(settings, name, rules, [_group(group), *_accounts(settings, name)]),
        ]
    return objects


def environments_configmap(settings: Settings) -> dict[str, Any]:
    """Subscription per environment, looked up by the steps as ``<env>.subscription-id``."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(settings, ENVIRONMENTS_CONFIGMAP),
        "data": {f"{env.name}.subscription-id": env.subscription_id for env in settings.environments},
    }


def build(settings: Settings) -> list[dict[str, Any]]:
    gc_accounts = [account(job, env) for env in settings.environments for job in (INFRA_PLAN, DATA_BOOTSTRAP)]
    return [
        *(doc for env in settings.environments for doc in job_accounts(settings, env)),
        *role_with_binding(settings, ARTIFACT_GC, ARTIFACT_GC_RULES, _accounts(settings, *gc_accounts)),
        service_account(settings, EXECUTOR_ACCOUNT),
        token_secret(settings, EXECUTOR_ACCOUNT),
        *role_with_binding(settings, EXECUTOR_ACCOUNT, EXECUTOR_RULES, _accounts(settings, EXECUTOR_ACCOUNT)),
        service_account(settings, SENSOR_ACCOUNT, api_access=True),  # the Sensor creates Workflows
        *role_with_binding(settings, SENSOR_ACCOUNT, SENSOR_RULES, _accounts(settings, SENSOR_ACCOUNT)),
        service_account(settings, EVENTSOURCE_ACCOUNT),
        *people(settings),
        environments_configmap(settings),
    ]
