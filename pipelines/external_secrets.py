"""External Secrets Operator objects: Key Vault (workload identity) -> the few Secrets the steps use.

Only automation secrets are synced: the GitHub webhook secret (EventSource) and a read-only
clone token (git artifacts). The Snowflake key stays in Key Vault; data_bootstrap reads it there.
"""

from __future__ import annotations

from typing import Any

from pipelines.settings import Settings
from pipelines.steps import GIT_CREDENTIALS, account
from stacks.naming import SECRETS_READER

API_VERSION = "external-secrets.io/v1"
STORE = "automation-key-vault"
GITHUB_WEBHOOK = "github-webhook"

# Kubernetes Secret name -> {key in the Secret: Key Vault secret name}
SYNCED = {
    GIT_CREDENTIALS: {"username": "github-clone-username", "token": "github-clone-token"},
    GITHUB_WEBHOOK: {"secret": "github-webhook-secret"},
}


def secret_store(settings: Settings) -> dict[str, Any]:
    """Key Vault through the push environment's ``secrets-reader`` identity.

    No ``tenantId`` here: the ServiceAccount's ``azure.workload.identity/tenant-id`` annotation
    carries it, and ESO refuses a store that has both ("multiple tenantID found":
    external-secrets v2.9.0 providers/v1/azure/keyvault/keyvault.go, test "duplicated tenantId" in
    keyvault_auth_test.go), exactly as its own example docs/snippets/azkv-workload-identity.yaml.
    """
    reader = account(SECRETS_READER, settings.environment(settings.push_environment))
    return {
        "apiVersion": API_VERSION,
        "kind": "SecretStore",
        "metadata": {"name": STORE, "namespace": settings.namespace},
        "spec": {
            "provider": {
                "azurekv": {
                    "authType": "WorkloadIdentity",
                    "vaultUrl": settings.automation_vault_url,
                    "serviceAccountRef": {"name": reader},
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
