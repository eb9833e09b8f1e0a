"""Azure ML's data asset registry: where a written folder becomes a named, versioned ``mltable`` data asset."""

from __future__ import annotations

from azure.ai.ml import MLClient
from azure.ai.ml.constants import AssetTypes
from azure.ai.ml.entities import Data
from azure.core.exceptions import ResourceNotFoundError

from data_bootstrap.assets import AssetRef
from data_bootstrap.azure_errors import azure_call
from data_bootstrap.connection import AML_RBAC_FIX


class AzureMLAssetRegistry:
    """Data assets of an Azure ML workspace."""

    def __init__(self, *, ml_client: MLClient) -> None:
        self._ml = ml_client

    def get(self, name: str, version: str) -> AssetRef | None:
        try:
            with azure_call(f"reading data asset {name}:{version}", forbidden_fix=AML_RBAC_FIX):
                data = self._ml.data.get(name, version=version)
        except ResourceNotFoundError:
            return None
        return AssetRef(name=name, version=str(data.version), path=str(data.path))

    def latest(self, name: str) -> AssetRef | None:
        """The most recently created version (what the label "latest" means), None if there is none.

        Lists instead of ``get(label="latest")``, which turns a 404 into a generic SDK exception."""
        try:
            with azure_call(f"listing data asset {name!r}", forbidden_fix=AML_RBAC_FIX):
                versions = list(self._ml.data.list(name=name))
        except ResourceNotFoundError:
            return None
        if not versions:
            return None
        newest = max(versions, key=lambda d: str(getattr(d.creation_context, "created_at", "") or ""))
        return AssetRef(name=name, version=str(newest.version), path=str(newest.path))

    def register(self, ref: AssetRef, *, description: str, tags: dict[str, str]) -> None:
        data = Data(
            name=ref.name,
            version=ref.version,
            type=AssetTypes.MLTABLE,
            path=ref.path,
            description=description,
            tags=tags,
        )
        with azure_call(f"registering data asset {ref.name}:{ref.version}", forbidden_fix=AML_RBAC_FIX):
            self._ml.data.create_or_update(data)
