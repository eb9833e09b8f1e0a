"""Azure ML's data asset registry: where a written folder becomes a named, versioned ``mltable`` data asset."""

from __future__ import annotations

from azure.ai.ml import MLClient
from azure.ai.ml.constants import AssetTypes
from azure.ai.ml.entities import Data
from azure.core.exceptions import ResourceNotFoundError

from data_bootstrap.azure.errors import azure_call, get_or_none
from data_bootstrap.publishing.assets import AssetRef
from data_bootstrap.snowflake.connection import AML_RBAC_FIX


def _ref(name: str, data: Data) -> AssetRef:
    created = getattr(data.creation_context, "created_at", "") if data.creation_context else ""
    return AssetRef(
        name=name,
        version=str(data.version),
        path=str(data.path),
        tags=dict(data.tags or {}),
        created_at=str(created or ""),
    )


class AzureMLAssetRegistry:
    """Data assets of an Azure ML workspace."""

    def __init__(self, *, ml_client: MLClient) -> None:
        self._ml = ml_client

    def _get(self, name: str, version: str) -> Data | None:
        found: Data | None = get_or_none(
            f"reading data asset {name}:{version}",
            lambda: self._ml.data.get(name, version=version),
            forbidden_fix=AML_RBAC_FIX,
        )
        return found

    def get(self, name: str, version: str) -> AssetRef | None:
        data = self._get(name, version)
        return None if data is None else _ref(name, data)

    def versions(self, name: str) -> list[AssetRef]:
        """Every version with its path and tags (lists, as ``get(label=...)`` turns a 404 into a generic error)."""
        try:
            with azure_call(f"listing data asset {name!r}", forbidden_fix=AML_RBAC_FIX):
                return [_ref(name, data) for data in self._ml.data.list(name=name)]
        except ResourceNotFoundError:
            return []

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

    def set_tags(self, ref: AssetRef, tags: dict[str, str]) -> None:
        """Re-sends the version, same path, with merged tags. A data asset version's content is immutable
        (learn.microsoft.com/azure/machine-learning/how-to-create-register-datasets: "Once you create a
        data asset version, it is immutable"); its description, tags and archive flag stay updatable
        (learn.microsoft.com/powershell/module/az.machinelearningservices/update-azmlworkspacedataversion)."""
        data = self._get(ref.name, ref.version)
        if data is None:
            return
        data.tags = {**(data.tags or {}), **tags}
        with azure_call(f"tagging data asset {ref.name}:{ref.version}", forbidden_fix=AML_RBAC_FIX):
            self._ml.data.create_or_update(data)
