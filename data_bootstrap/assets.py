"""What an asset registry is, independent of where it lives (Azure ML or the local catalog)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, kw_only=True)
class AssetRef:
    name: str
    version: str
    path: str


class AssetRegistry(Protocol):
    def get(self, name: str, version: str) -> AssetRef | None: ...

    def latest(self, name: str) -> AssetRef | None: ...

    def register(self, ref: AssetRef, *, description: str, tags: dict[str, str]) -> None: ...


def datastore_uri(datastore: str, path: str) -> str:
    return f"azureml://datastores/{datastore}/paths/{path.strip('/')}/"
