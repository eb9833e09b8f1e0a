"""Local asset catalog: the local rehearsal's stand-in for Azure ML's data asset registry.

It implements the same ``AssetRegistry`` protocol as ``AzureMLAssetRegistry``, over one JSON file.
Each registration rewrites the file atomically (temporary file + ``os.replace``), so an interrupted
write leaves the previous catalog intact and registers nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from data_bootstrap.assets import AssetRef
from data_bootstrap.errors import BootstrapError

CATALOG_KIND = "local stand-in for the Azure ML data asset registry"


class LocalAssetCatalog:
    """Versioned assets in ``path`` (JSON); ``latest`` is the most recently registered version."""

    def __init__(self, *, path: Path) -> None:
        self.path = path

    def _entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            entries: list[dict[str, Any]] = document["assets"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise BootstrapError(
                f"local asset catalog {self.path} is unreadable", "delete it (the demo rebuilds it on the next run)"
            ) from None
        return entries

    @staticmethod
    def _ref(entry: dict[str, Any]) -> AssetRef:
        return AssetRef(name=entry["name"], version=entry["version"], path=entry["path"])

    def get(self, name: str, version: str) -> AssetRef | None:
        for entry in self._entries():
            if entry["name"] == name and entry["version"] == version:
                return self._ref(entry)
        return None

    def latest(self, name: str) -> AssetRef | None:
        matching = [entry for entry in self._entries() if entry["name"] == name]
        return self._ref(matching[-1]) if matching else None

    def register(self, ref: AssetRef, *, description: str, tags: dict[str, str]) -> None:
        """Adds ``ref``; registering an existing name and version again replaces it, as Azure ML does."""
        entries = [e for e in self._entries() if (e["name"], e["version"]) != (ref.name, ref.version)]
        entries.append(
            {"name": ref.name, "version": ref.version, "path": ref.path, "description": description, "tags": tags}
        )
        self._write({"kind": CATALOG_KIND, "assets": entries})

    def _write(self, document: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".catalog-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
                stream.flush()
                os.fsync(stream.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
