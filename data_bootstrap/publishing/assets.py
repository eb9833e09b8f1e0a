"""What an asset registry is, independent of where it lives (Azure ML or the local catalog).

The *current* version of an asset is the one whose content the last import produced: each import
stamps the version it produced (new or found) with the tag ``imported_at`` (UTC, ISO 8601), and
``current`` picks the newest stamp. Versions registered before that tag existed rank by creation
time, below every stamped one. ``latest`` in Azure ML means "most recently created", which lags the
data after a revert to earlier content; ``plan`` and ``verify`` use ``current``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

CURRENT_TAG = "imported_at"


@dataclass(frozen=True, kw_only=True)
class AssetRef:
    name: str
    version: str
    path: str
    tags: Mapping[str, str] = field(default_factory=dict, compare=False)
    created_at: str = field(default="", compare=False)  # ISO 8601, for ranking untagged versions

    @property
    def folder(self) -> str:
        """The datastore-relative folder of an ``azureml://datastores/<ds>/paths/<folder>/`` path."""
        return self.path.split("/paths/", 1)[1].strip("/") if "/paths/" in self.path else ""


class AssetRegistry(Protocol):
    def get(self, name: str, version: str) -> AssetRef | None: ...

    def versions(self, name: str) -> list[AssetRef]: ...

    def register(self, ref: AssetRef, *, description: str, tags: dict[str, str]) -> None: ...

    def set_tags(self, ref: AssetRef, tags: dict[str, str]) -> None:
        """Merges ``tags`` into the version's tags (Azure ML lets tags and description change)."""
        ...


def current(registry: AssetRegistry, name: str) -> AssetRef | None:
    """The version the last import produced (see the module docstring); None if there is none."""
    versions = registry.versions(name)
    if not versions:
        return None
    return max(versions, key=lambda ref: (ref.tags.get(CURRENT_TAG, ""), ref.created_at))


def datastore_uri(datastore: str, path: str) -> str:
    return f"azureml://datastores/{datastore}/paths/{path.strip('/')}/"
