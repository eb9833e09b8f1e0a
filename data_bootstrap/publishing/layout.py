"""Where a version's files live in the raw container, what the manifest says, which folders are stale.

    <path_prefix>/<version>/_CLAIM                 which run folder is the version's (first writer wins)
    <path_prefix>/<version>/<run>/part-NNNNN.parquet
    <path_prefix>/<version>/<run>/MLTable
    <path_prefix>/<version>/<run>/_COMPLETE        the manifest, written last: files, bytes, rows, schema
    <path_prefix>/<version>/<run>/_RUN             the run's liveness marker, leased while it runs

Every run writes only into its own ``<run>`` folder and deletes only its own folder (when it loses
the claim or fails) or folders that are stale: not registered and not leased by a live run. So no
code path deletes or overwrites a folder a registered version points at.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from data_bootstrap.errors import BootstrapError
from stacks.config import EnvironmentConfig

MLTABLE_TEXT = """\
$schema: https://azuremlschemas.azureedge.net/latest/MLTable.schema.json
type: mltable
paths:
  - pattern: ./*.parquet
transformations:
  - read_parquet:
      include_path_column: false
"""
COMPLETE_MARKER = "_COMPLETE"
RUN_MARKER = "_RUN"
CLAIM = "_CLAIM"
MANIFEST_FORMAT = 1


def new_run_id() -> str:
    """Sortable by start time, unique across machines."""
    return f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


@dataclass(frozen=True, kw_only=True)
class ImportTarget:
    asset_name: str
    datastore: str
    path_prefix: str
    query: str

    def version_folder(self, version: str) -> str:
        return f"{self.path_prefix}/{version}"

    def run_folder(self, version: str, run_id: str) -> str:
        return f"{self.version_folder(version)}/{run_id}"

    def claim(self, version: str) -> str:
        return f"{self.version_folder(version)}/{CLAIM}"

    def version_context(self) -> tuple[str, str]:
        """What besides the rows the version depends on: the normalised query and where it is written
        (the same rows under another datastore or prefix are another version, so they get written)."""
        return " ".join(self.query.split()), f"{self.datastore}/{self.path_prefix}"


def import_target(config: EnvironmentConfig) -> ImportTarget:
    a = config.data_asset
    return ImportTarget(
        asset_name=a.name, datastore=a.datastore, path_prefix=a.path_prefix, query=config.snowflake.query
    )


@dataclass(frozen=True, kw_only=True)
class PartFile:
    name: str
    bytes: int
    rows: int


@dataclass(frozen=True, kw_only=True)
class Manifest:
    version: str
    rows: int
    parts: tuple[PartFile, ...]
    schema: tuple[tuple[str, str], ...]  # (column, Arrow type) as imported, before any round trip

    @property
    def nbytes(self) -> int:
        return sum(part.bytes for part in self.parts)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": MANIFEST_FORMAT,
                "version": self.version,
                "rows": self.rows,
                "files": [{"name": p.name, "bytes": p.bytes, "rows": p.rows} for p in self.parts],
                "schema": [list(column) for column in self.schema],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str, *, where: str) -> Manifest:
        try:
            document: dict[str, Any] = json.loads(text)
            parts = tuple(
                PartFile(name=f["name"], bytes=int(f["bytes"]), rows=int(f["rows"])) for f in document["files"]
            )
            schema = tuple((str(c[0]), str(c[1])) for c in document["schema"])
            return cls(version=str(document["version"]), rows=int(document["rows"]), parts=parts, schema=schema)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, IndexError):
            raise BootstrapError(
                f"{where} is not a manifest this version of data_bootstrap reads",
                "re-import with `python -m data_bootstrap apply --step import`",
            ) from None

    def problems_with(self, listing: dict[str, int]) -> list[str]:
        """Compares the folder's files (name -> bytes) with the manifest."""
        problems = []
        for part in self.parts:
            if part.name not in listing:
                problems.append(f"{part.name} is missing")
            elif listing[part.name] != part.bytes:
                problems.append(f"{part.name} has {listing[part.name]:,} bytes, the manifest says {part.bytes:,}")
        extra = sorted(n for n in listing if n.endswith(".parquet") and n not in {p.name for p in self.parts})
        problems += [f"{name} is not in the manifest" for name in extra]
        if "MLTable" not in listing:
            problems.append("MLTable is missing")
        counted = sum(part.rows for part in self.parts)
        if counted != self.rows:
            problems.append(f"the parts hold {counted:,} rows, the manifest says {self.rows:,}")
        return problems


@dataclass(frozen=True, kw_only=True)
class FolderState:
    """One folder under the prefix as seen by a sweep."""

    folder: str
    blobs: tuple[str, ...]
    registered: bool
    live: bool  # a run holds its lease, or just started

    @property
    def stale(self) -> bool:
        return not self.registered and not self.live


def run_folder_of(blob: str, prefix: str) -> str | None:
    """``<prefix>/<version>/<run>`` for a blob inside a run folder; ``<prefix>/<version>`` for a claim
    or a file of the layout before run folders; None outside the prefix."""
    if not blob.startswith(prefix + "/"):
        return None
    parts = blob[len(prefix) + 1 :].split("/")
    if len(parts) >= 3:
        return f"{prefix}/{parts[0]}/{parts[1]}"
    return f"{prefix}/{parts[0]}" if len(parts) == 2 else None
