"""Import engines: how the rows get from Snowflake into a version folder, behind one small interface.

An engine knows the content version, the row count and the schema before anything is written
(``prepare``), and has checked the data contract by then; the shared publish flow
(``data_bootstrap.publishing.publish``) then sweeps, reuses an existing version, or opens a run
folder, lets the engine write the parts into it (``Prepared.write_parts``), and writes the MLTable
and manifest, claims and registers. ``engine_for`` is the only place that maps
``[data_asset].engine`` to code; nothing else branches on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, get_args

from data_bootstrap.errors import BootstrapError
from stacks.config import EnvironmentConfig
from stacks.config import ImportEngine as EngineName

if TYPE_CHECKING:  # type-only: keeps ``engine_for`` importable without pyarrow or the Snowflake connector
    from data_bootstrap.azure.blob_sink import BlobSink
    from data_bootstrap.azure.private_endpoints import StorageAccountArm
    from data_bootstrap.engines.unload import Warehouse
    from data_bootstrap.progress import ProgressPrinter, Reporter
    from data_bootstrap.publishing.layout import ImportTarget, PartFile
    from data_bootstrap.snowflake.source import SnowflakeParams

__all__ = ["ENGINES", "ImportEngine", "ImportJob", "Prepared", "StorageAccount", "engine_for"]

ENGINES: tuple[EngineName, ...] = get_args(EngineName)  # what [data_asset].engine accepts


@dataclass(frozen=True, kw_only=True)
class ImportJob:
    """What an engine may use, the same for ``apply`` on Azure and the local rehearsal."""

    config: EnvironmentConfig  # [snowflake], [data_asset], [data_contract], [unload]
    target: ImportTarget
    sink: BlobSink  # the raw container (Azure Storage, or Azurite in the rehearsal)
    # resolves the key only when called (Key Vault on Azure), so `plan` never reads a secret
    snowflake: Callable[[], SnowflakeParams] = field(repr=False)
    storage: StorageAccount | None = None  # the raw storage account in ARM (the unload engine); None in the rehearsal
    # opens a Snowflake session on the named warehouse ('' = snowflake.warehouse) for SQL that runs in the
    # warehouse (the unload engine, the warehouse fingerprint); None: the connector with ``snowflake()``
    warehouse: Callable[[str], Warehouse] | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class StorageAccount:
    """The raw storage account as ARM knows it: where Snowflake's private endpoint connects and whose
    tenant the storage integration names."""

    resource_id: str
    tenant_id: str
    arm: Callable[[], StorageAccountArm] = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """What an engine knows before writing anything to the raw container."""

    engine: str
    version: str
    rows: int
    schema: tuple[tuple[str, str], ...]  # (column, Arrow type), as in the manifest
    # writes the Parquet parts into the run folder it is given; returns them as the manifest lists them
    write_parts: Callable[[str, BlobSink, Reporter], tuple[PartFile, ...]] = field(repr=False)
    close: Callable[[], None] = field(repr=False)  # drops what prepare left behind (local spill, temp files)
    tags: Mapping[str, str] = field(default_factory=dict)  # added to the registered version's tags


class ImportEngine(Protocol):
    name: str

    def plan_details(self, job: ImportJob) -> list[str]:
        """Lines for ``plan``: what the engine will run and write. Reads nothing secret."""
        ...

    def preflight(self, job: ImportJob) -> None:
        """Refusals before any write, each a one-line ``BootstrapError``."""
        ...

    def prepare(self, job: ImportJob, *, scratch: Path, progress: ProgressPrinter) -> Prepared:
        """Reads the source, computes the version and checks the data contract; writes nothing remote."""
        ...


def engine_for(config: EnvironmentConfig) -> ImportEngine:
    name = config.data_asset.engine
    if name == "stream":
        from data_bootstrap.engines.stream import StreamEngine
        from data_bootstrap.engines.unload import warehouse_fingerprint_of

        return StreamEngine(fingerprint=warehouse_fingerprint_of)
    if name == "unload":
        from data_bootstrap.engines.unload import UnloadEngine

        return UnloadEngine()
    raise BootstrapError(f"[data_asset].engine = {name!r} is not an import engine", f"use one of {', '.join(ENGINES)}")
