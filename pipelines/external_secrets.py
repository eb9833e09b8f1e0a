"""External Secrets Operator objects: Key Vault (workload identity) -> the few Secrets the steps use.

Only automation secrets are synced: the GitHub webhook secret (EventSource) and a read-only
clone token (git artifacts). The Snowflake key stays in Key Vault; data_bootstrap reads it there.
"""

from __future__ import annotations

from typing import Any

from pipelines.access import SECRETS_ACCOUNT
from pipelines.settings import Settings
from pipelines.steps import GIT_CREDENTIALS

API_VERSION = "external-secrets.io/v1"
STORE = "automation-key-vault"
GITHUB_WEBHOOK = "github-webhook"

# Kubernetes Secret name -> {key in the Secret: Key Vault secret name}
SYNCED = {
    GIT_CREDENTIALS: {"username": "github-clone-username", "token": "github-clone-token"},
    GITHUB_WEBHOOK: {"secret": "github-webhook-secret"},
}


def secret_store(settings: Settings) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "SecretStore",
        "metadata": {"name": STORE, "namespace": settings.namespace},
        "spec": {
            "provider": {
                "azurekv": {
                    "authType": "WorkloadIdentity",
                    "vaultUrl": settings.automation_vault_url,
                    "tenantId": settings.tenant_id,
                    "serviceAccountRef": {"name": SECRETS_ACCOUNT},
                }
            }
        },
    }


def external_secret(settings: Settings, name: str, keys: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": settings.namespace},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": "SecretStore", "name": STORE},
            "target": {"name": name, "creationPolicy": "Owner"},
            "data": [{"secretKey": key, "remoteRef": {"key": remote}} for key, remote in keys.items()],
        },
    }


def build(settings: Settings) -> list[dict[str, Any]]:
    return [secret_store(settings), *(external_secret(settings, name, keys) for name, keys in SYNCED.items())]
