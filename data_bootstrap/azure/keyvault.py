"""Fetch the Snowflake private key (and optional passphrase) from Key Vault; values never leave memory."""

from __future__ import annotations

from azure.core.exceptions import ResourceNotFoundError
from azure.keyvault.secrets import SecretClient

from data_bootstrap.azure.errors import azure_call
from data_bootstrap.errors import BootstrapError

RBAC_FIX = "grant the identity 'Key Vault Secrets User' on the vault and run from inside the VNet"


def fetch_secret(client: SecretClient, name: str) -> str:
    vault = client.vault_url
    try:
        with azure_call(f"reading Key Vault secret {name!r} from {vault}", forbidden_fix=RBAC_FIX):
            value = client.get_secret(name).value
    except ResourceNotFoundError:
        raise BootstrapError(
            f"Key Vault secret {name!r} not found in {vault}",
            f"upload it from inside the VNet: az keyvault secret set --vault-name <vault> --name {name} --file key.p8",
        ) from None
    if not value:
        raise BootstrapError(f"Key Vault secret {name!r} in {vault} is empty", "upload the PEM file again")
    return value
