"""Import: Arrow batches -> local Parquet spill (hashing as it goes) -> blob folder -> registered asset.

The version is known only after the last row, so the rows spill to local disk first (memory holds
one batch). An unchanged re-run finds the version registered and uploads nothing. The folder gets
its ``MLTable`` file and then a ``_COMPLETE`` marker last; the asset is registered only after
the marker, so an interrupted run never leaves a registered half asset.
"""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from data_bootstrap.assets import AssetRef, AssetRegistry, datastore_uri
from data_bootstrap.blob_sink import BlobSink
from data_bootstrap.digest import ContentDigest
from data_bootstrap.errors import BootstrapError
from data_bootstrap.progress import ProgressPrinter

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


@dataclass(frozen=True, kw_only=True)
class ImportTarget:
    asset_name: str
    datastore: str
    path_prefix: str
    query: str

    def folder(self, version: str) -> str:
        return f"{self.path_prefix.strip('/')}/{version}"


@dataclass(frozen=True, kw_only=True)
class Spill:
    files: list[Path]
    rows: int
    nbytes: int
    version: str


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    asset: AssetRef
    created: bool
    rows: int
    nbytes: int


def spill_to_parquet(
    batches: Iterable[pa.RecordBatch],
    *,
    workdir: Path,
    query: str,
    progress: ProgressPrinter,
    rows_per_file: int = 1_000_000,
) -> Spill:
    """Writes batches to ``part-NNNNN.parquet`` files, rolling every ``rows_per_file`` rows."""
    digest = ContentDigest()
    files: list[Path] = []
    writer: pq.ParquetWriter | None = None
    rows_in_file = 0
    with progress.phase("reading Snowflake") as report:
        try:
            for batch in batches:
                digest.update(batch)
                if writer is None or rows_in_file >= rows_per_file:
                    if writer is not None:
                        writer.close()
                    files.append(workdir / f"part-{len(files):05d}.parquet")
                    writer = pq.ParquetWriter(files[-1], batch.schema.remove_metadata(), compression="zstd")
                    rows_in_file = 0
                writer.write_batch(batch.replace_schema_metadata(None))
                rows_in_file += batch.num_rows
                report.advance(rows=batch.num_rows, nbytes=batch.nbytes)
        finally:
            if writer is not None:
                writer.close()
        if digest.rows == 0:
            raise BootstrapError(
                "the Snowflake query returned no rows", "check snowflake.query and that the table is loaded"
            )
    return Spill(
        files=files, rows=digest.rows, nbytes=sum(f.stat().st_size for f in files), version=digest.version(query)
    )


def publish(
    spill: Spill, *, target: ImportTarget, sink: BlobSink, registry: AssetRegistry, progress: ProgressPrinter
) -> ImportResult:
    """Uploads the spill under ``<prefix>/<version>/`` and registers it, unless that version exists."""
    ref = AssetRef(
        name=target.asset_name,
        version=spill.version,
        path=datastore_uri(target.datastore, target.folder(spill.version)),
    )
    if registry.get(target.asset_name, spill.version) is not None:
        return ImportResult(asset=ref, created=False, rows=spill.rows, nbytes=spill.nbytes)
    folder = target.folder(spill.version)
    sink.delete_prefix(folder + "/")  # leftovers of an interrupted run: same content, maybe other file split
    with progress.phase(f"writing {sink.location}/{folder}") as report:
        for local in spill.files:
            sink.upload_file(local, f"{folder}/{local.name}", on_bytes=lambda n: report.advance(nbytes=n))
        sink.upload_text(f"{folder}/MLTable", MLTABLE_TEXT)
        report.advance(rows=spill.rows)
    marker = {"version": spill.version, "rows": spill.rows, "files": [f.name for f in spill.files]}
    sink.upload_text(f"{folder}/{COMPLETE_MARKER}", json.dumps(marker, sort_keys=True))
    registry.register(
        ref,
        description=f"GloboRealty raw house prices from Snowflake ({spill.rows:,} rows)",
        tags={"source": "snowflake", "rows": str(spill.rows), "query": " ".join(target.query.split())[:256]},
    )
    return ImportResult(asset=ref, created=True, rows=spill.rows, nbytes=spill.nbytes)


def run_import(
    batches: Iterable[pa.RecordBatch],
    *,
    target: ImportTarget,
    sink: BlobSink,
    registry: AssetRegistry,
    progress: ProgressPrinter,
    workdir: Path | None = None,
    rows_per_file: int = 1_000_000,
) -> ImportResult:
    """Spill + publish in one call (the local rehearsal's entry point)."""
    with tempfile.TemporaryDirectory(prefix="data-bootstrap-", dir=workdir) as scratch:
        spill = spill_to_parquet(
            batches, workdir=Path(scratch), query=target.query, progress=progress, rows_per_file=rows_per_file
        )
        return publish(spill, target=target, sink=sink, registry=registry, progress=progress)
