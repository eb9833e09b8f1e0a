"""Identities and least-privilege RBAC: one ServiceAccount (and Role) per workload.

Workflow pods authenticate to Azure through AKS workload identity: the ServiceAccount carries
the managed identity's client id; no client secret exists anywhere.
"""

from __future__ import annotations

from typing import Any

from pipelines import data, infra
from pipelines.settings import Settings
from pipelines.steps import ENVIRONMENTS_CONFIGMAP

SENSOR_ACCOUNT = "infra-sensor"
EVENTSOURCE_ACCOUNT = "github-events"
SECRETS_ACCOUNT = "secrets-reader"

# What Argo's executor needs: report step results; delete the run's artifacts when it is deleted.
EXECUTOR_RULES = [
    {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]},
    {"apiGroups": ["argoproj.io"], "resources": ["workflowartifactgctasks"], "verbs": ["list", "watch"]},
    {"apiGroups": ["argoproj.io"], "resources": ["workflowartifactgctasks/status"], "verbs": ["patch"]},
]
SENSOR_RULES = [{"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]}]


def _metadata(settings: Settings, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": settings.namespace,
        "labels": {"app.kubernetes.io/part-of": "ml-platform"},
        **extra,
    }


def service_account(settings: Settings, name: str, *, client_id: str | None, api_access: bool) -> dict[str, Any]:
    annotations = {}
    if client_id is not None:
        annotations = {
            "azure.workload.identity/client-id": client_id,
            "azure.workload.identity/tenant-id": settings.tenant_id,
        }
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(settings, name, **({"annotations": annotations} if annotations else {})),
        "automountServiceAccountToken": api_access,
    }


def role_with_binding(settings: Settings, account: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _metadata(settings, account),
        "rules": rules,
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _metadata(settings, account),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": settings.namespace}],
    }
    return [role, binding]


def environments_configmap(settings: Settings) -> dict[str, Any]:
    """Subscription per environment, looked up by the steps as ``<env>.subscription-id``."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(settings, ENVIRONMENTS_CONFIGMAP),
        "data": {f"{env.name}.subscription-id": env.subscription_id for env in settings.environments},
    }


def build(settings: Settings) -> list[dict[str, Any]]:
    return [
        service_account(settings, infra.SERVICE_ACCOUNT, client_id=settings.infra_client_id, api_access=True),
        *role_with_binding(settings, infra.SERVICE_ACCOUNT, EXECUTOR_RULES),
        service_account(settings, data.SERVICE_ACCOUNT, client_id=settings.data_client_id, api_access=True),
        *role_with_binding(settings, data.SERVICE_ACCOUNT, EXECUTOR_RULES),
        service_account(settings, SENSOR_ACCOUNT, client_id=None, api_access=True),
        *role_with_binding(settings, SENSOR_ACCOUNT, SENSOR_RULES),
        # Needs no Kubernetes API: ESO requests this account's token itself.
        service_account(settings, SECRETS_ACCOUNT, client_id=settings.secrets_client_id, api_access=False),
        service_account(settings, EVENTSOURCE_ACCOUNT, client_id=None, api_access=False),
        environments_configmap(settings),
    ]
