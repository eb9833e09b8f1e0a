"""Local asset catalog: the local rehearsal's stand-in for Azure ML's data asset registry.

It implements the same ``AssetRegistry`` protocol as ``AzureMLAssetRegistry``, over one JSON file.
Each registration rewrites the file atomically (temporary file + ``os.replace``), so an interrupted
write leaves the previous catalog intact and registers nothing; the read-modify-write runs under an
exclusive lock on ``<catalog>.lock``, so two demos on one state folder do not lose each other's entries.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from data_bootstrap.errors import BootstrapError
from data_bootstrap.publishing.assets import AssetRef

CATALOG_KIND = "local stand-in for the Azure ML data asset registry"


class LocalAssetCatalog:
    """Versioned assets in ``path`` (JSON)."""

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
        return AssetRef(
            name=entry["name"],
            version=entry["version"],
            path=entry["path"],
            tags=dict(entry.get("tags", {})),
            created_at=str(entry.get("created_at", "")),
        )

    def get(self, name: str, version: str) -> AssetRef | None:
        for entry in self._entries():
            if entry["name"] == name and entry["version"] == version:
                return self._ref(entry)
        return None

    def versions(self, name: str) -> list[AssetRef]:
        return [self._ref(entry) for entry in self._entries() if entry["name"] == name]

    def register(self, ref: AssetRef, *, description: str, tags: dict[str, str]) -> None:
        """Adds ``ref``; registering an existing name and version again keeps the first path, as Azure ML
        keeps a version immutable."""

        def add(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            if any((e["name"], e["version"]) == (ref.name, ref.version) for e in entries):
                return entries
            created = datetime.now(UTC).isoformat()
            entry = {"name": ref.name, "version": ref.version, "path": ref.path, "description": description}
            return [*entries, {**entry, "tags": tags, "created_at": created}]

        self._update(add)

    def set_tags(self, ref: AssetRef, tags: dict[str, str]) -> None:
        def tag(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {**e, "tags": {**e.get("tags", {}), **tags}}
                if (e["name"], e["version"]) == (ref.name, ref.version)
                else e
                for e in entries
            ]

        self._update(tag)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with (self.path.parent / f"{self.path.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _update(self, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
        with self._locked():
            self._write({"kind": CATALOG_KIND, "assets": change(self._entries())})

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
