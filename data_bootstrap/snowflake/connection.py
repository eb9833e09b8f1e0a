"""The Snowflake connection as an Azure ML workspace connection of the GA ``custom`` type.

The connection holds only coordinates and a *reference* to the Key Vault secret (vault URI + secret
names); the key stays in Key Vault. ``resolve_connection`` turns the name back into usable
parameters with Azure credentials only, for jobs and workstations alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.ai.ml import MLClient
from azure.ai.ml.entities import NoneCredentialConfiguration, WorkspaceConnection
from azure.keyvault.secrets import SecretClient

from data_bootstrap.azure.errors import get_or_none
from data_bootstrap.azure.keyvault import fetch_secret
from data_bootstrap.errors import BootstrapError
from data_bootstrap.snowflake.source import SnowflakeCoordinates, SnowflakeParams, private_key_der

KIND = "snowflake-keypair"
AML_RBAC_FIX = "grant the identity 'AzureML Data Scientist' on the workspace"


@dataclass(frozen=True, kw_only=True)
class ConnectionSpec:
    """What the workspace connection records (no secret values)."""

    name: str
    coordinates: SnowflakeCoordinates
    key_vault_uri: str
    private_key_secret: str
    private_key_passphrase_secret: str = ""

    def metadata(self) -> dict[str, str]:
        return {
            "kind": KIND,
            **self.coordinates.as_dict(),
            "jdbc_url": self.coordinates.jdbc_url(),
            "key_vault_uri": self.key_vault_uri,
            "private_key_secret": self.private_key_secret,
            "private_key_passphrase_secret": self.private_key_passphrase_secret,
        }

    def to_entity(self) -> WorkspaceConnection:
        return WorkspaceConnection(
            name=self.name,
            type="custom",
            target=f"https://{self.coordinates.host}",
            credentials=NoneCredentialConfiguration(),
            metadata=self.metadata(),
        )

    @classmethod
    def from_entity(cls, entity: WorkspaceConnection) -> ConnectionSpec:
        meta: Mapping[str, Any] = entity.metadata or {}
        if meta.get("kind") != KIND:
            raise BootstrapError(
                f"workspace connection {entity.name!r} is not a Snowflake key-pair connection",
                "run `python -m data_bootstrap apply --step connection` to register it",
            )
        coordinates = SnowflakeCoordinates(**{k: str(meta[k]) for k in SnowflakeCoordinates.field_names()})
        return cls(
            name=str(entity.name),
            coordinates=coordinates,
            key_vault_uri=str(meta["key_vault_uri"]),
            private_key_secret=str(meta["private_key_secret"]),
            private_key_passphrase_secret=str(meta.get("private_key_passphrase_secret", "")),
        )

    def differences(self, existing: WorkspaceConnection) -> list[str]:
        """Fields that differ from the registered connection; empty means up to date."""
        changes: list[str] = []
        if existing.type != "custom":
            changes.append(f"type: {existing.type} -> custom")
        target = f"https://{self.coordinates.host}"
        if existing.target != target:
            changes.append(f"target: {existing.target} -> {target}")
        current = dict(existing.metadata or {})
        for key, value in self.metadata().items():
            if current.get(key) != value:
                changes.append(f"metadata.{key}: {current.get(key)!r} -> {value!r}")
        return changes


def get_connection(ml_client: MLClient, name: str) -> WorkspaceConnection | None:
    found: WorkspaceConnection | None = get_or_none(
        f"reading workspace connection {name!r}", lambda: ml_client.connections.get(name), forbidden_fix=AML_RBAC_FIX
    )
    return found


def resolve_connection(
    name: str,
    *,
    ml_client: MLClient,
    secret_client: Callable[[str], SecretClient],
    extra: Mapping[str, Any] | None = None,
) -> SnowflakeParams:
    """Connection name -> coordinates + private key fetched from Key Vault (Azure credentials only)."""
    entity = get_connection(ml_client, name)
    if entity is None:
        raise BootstrapError(
            f"workspace connection {name!r} not found", "run `python -m data_bootstrap apply --step connection` first"
        )
    return params_from_spec(ConnectionSpec.from_entity(entity), secret_client=secret_client, extra=extra)


def params_from_spec(
    spec: ConnectionSpec, *, secret_client: Callable[[str], SecretClient], extra: Mapping[str, Any] | None = None
) -> SnowflakeParams:
    """Fetches the key (and passphrase) the spec references and returns ready connection parameters."""
    vault = secret_client(spec.key_vault_uri)
    pem = fetch_secret(vault, spec.private_key_secret)
    passphrase = fetch_secret(vault, spec.private_key_passphrase_secret) if spec.private_key_passphrase_secret else None
    return SnowflakeParams(
        coordinates=spec.coordinates, private_key_der=private_key_der(pem, passphrase), extra=extra or {}
    )
