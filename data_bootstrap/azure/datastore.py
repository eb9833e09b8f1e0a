"""The identity-based ``rawdata`` blob datastore (no account key, no SAS)."""

from __future__ import annotations

from azure.ai.ml import MLClient
from azure.ai.ml.entities import AzureBlobDatastore, NoneCredentialConfiguration

from data_bootstrap.azure.errors import get_or_none
from data_bootstrap.snowflake.connection import AML_RBAC_FIX


def desired_datastore(*, name: str, account_name: str, container_name: str) -> AzureBlobDatastore:
    return AzureBlobDatastore(
        name=name,
        account_name=account_name,
        container_name=container_name,
        description="Raw (bronze) GloboRealty data; identity-based access",
    )


def datastore_differences(existing: AzureBlobDatastore, desired: AzureBlobDatastore) -> list[str]:
    changes: list[str] = []
    for attribute in ("account_name", "container_name", "endpoint", "protocol"):
        before, after = getattr(existing, attribute, None), getattr(desired, attribute)
        if before != after:
            changes.append(f"{attribute}: {before} -> {after}")
    credentials = getattr(existing, "credentials", None)
    if credentials is not None and not isinstance(credentials, NoneCredentialConfiguration):
        changes.append(f"credentials: {type(credentials).__name__} -> identity-based (none stored)")
    return changes


def get_datastore(ml_client: MLClient, name: str) -> AzureBlobDatastore | None:
    found = get_or_none(
        f"reading datastore {name!r}", lambda: ml_client.datastores.get(name), forbidden_fix=AML_RBAC_FIX
    )
    return found if isinstance(found, AzureBlobDatastore) else None
