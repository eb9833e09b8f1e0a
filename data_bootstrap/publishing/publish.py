"""The publish flow every engine shares: sweep stale folders -> reuse an existing version -> the
run's own folder under a lease -> the engine writes the parts -> MLTable + manifest -> first-writer-wins
claim -> registered asset, stamped current.

An unchanged re-run finds the version registered and writes nothing. The folder layout, the manifest
and what counts as stale are in ``layout``; what an engine hands over is ``engines.Prepared``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from data_bootstrap.azure.blob_sink import LEASE_SECONDS, BlobSink
from data_bootstrap.errors import BootstrapError
from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.publishing.assets import CURRENT_TAG, AssetRef, AssetRegistry, current, datastore_uri
from data_bootstrap.publishing.fingerprint import FINGERPRINT_TAG, version_with_fingerprint
from data_bootstrap.publishing.layout import (
    CLAIM,
    COMPLETE_MARKER,
    MLTABLE_TEXT,
    RUN_MARKER,
    FolderState,
    ImportTarget,
    Manifest,
    new_run_id,
    run_folder_of,
)

if TYPE_CHECKING:  # engines build on this module; it needs their types only
    from data_bootstrap.engines import ImportEngine, ImportJob, Prepared

__all__ = [
    "COMPLETE_MARKER",
    "ImportResult",
    "ImportTarget",
    "claim_version",
    "import_with",
    "prepare_and_publish",
    "publish",
    "read_manifest",
    "sweep",
]


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    asset: AssetRef
    created: bool
    rows: int
    nbytes: int | None  # of the registered folder, from its manifest; None if it has none


def read_manifest(sink: BlobSink, folder: str) -> Manifest | None:
    name = f"{folder}/{COMPLETE_MARKER}"
    if not sink.exists(name):
        return None
    return Manifest.from_json(sink.read_text(name), where=f"{sink.location}/{name}")


def sweep(target: ImportTarget, *, sink: BlobSink, registry: AssetRegistry) -> list[FolderState]:
    """Every folder under the prefix: registered, live (a run holds its lease or just started) or stale."""
    registered = {ref.folder for ref in registry.versions(target.asset_name) if f"/{target.datastore}/" in ref.path}
    groups: dict[str, list[str]] = {}
    live: set[str] = set()
    fresh = datetime.now(UTC) - timedelta(seconds=LEASE_SECONDS)
    for blob in sink.list_info(target.path_prefix + "/"):
        folder = run_folder_of(blob.name, target.path_prefix)
        if folder is None:
            continue
        groups.setdefault(folder, []).append(blob.name)
        # leased: the run is alive; never leased yet and fresh: it is between writing _RUN and leasing it;
        # expired or broken: the run died (even SIGKILL cannot keep a lease past LEASE_SECONDS)
        just_started = blob.lease_state == "available" and blob.last_modified > fresh
        if blob.name.endswith("/" + RUN_MARKER) and (blob.leased or just_started):
            live.add(folder)
    states = []
    for folder, blobs in sorted(groups.items()):
        # a version folder holding only the claim belongs to the run folders below it
        inside = [f for f in registered | live if f.startswith(folder + "/")]
        states.append(
            FolderState(
                folder=folder,
                blobs=tuple(sorted(blobs)),
                registered=folder in registered or (bool(inside) and all(b.endswith("/" + CLAIM) for b in blobs)),
                live=folder in live,
            )
        )
    return states


def remove_stale(states: list[FolderState], *, sink: BlobSink) -> list[FolderState]:
    stale = [state for state in states if state.stale]
    for state in stale:
        sink.delete(list(state.blobs))
    return stale


def _make_current(registry: AssetRegistry, ref: AssetRef) -> None:
    now = current(registry, ref.name)
    if now is None or now.version != ref.version or CURRENT_TAG not in now.tags:
        registry.set_tags(ref, {CURRENT_TAG: _now()})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _registered_nbytes(sink: BlobSink, ref: AssetRef) -> int | None:
    manifest = read_manifest(sink, ref.folder)
    return None if manifest is None else manifest.nbytes


def _same_data(registry: AssetRegistry, target: ImportTarget, prepared: Prepared) -> AssetRef | None:
    """A version the other engine registered from the same warehouse data (``publishing.fingerprint``)."""
    fingerprint = prepared.tags.get(FINGERPRINT_TAG)
    return None if fingerprint is None else version_with_fingerprint(registry, target, fingerprint)


def publish(
    prepared: Prepared, *, target: ImportTarget, sink: BlobSink, registry: AssetRegistry, progress: ProgressPrinter
) -> ImportResult:
    """Has the engine write the parts into a folder of its own and registers it, unless the version
    exists. Of concurrent runs with the same content the first to claim the version wins; the others
    delete their own folders and point at the winner's."""
    remove_stale(sweep(target, sink=sink, registry=registry), sink=sink)
    existing = registry.get(target.asset_name, prepared.version) or _same_data(registry, target, prepared)
    if existing is not None:
        _make_current(registry, existing)
        return ImportResult(
            asset=existing, created=False, rows=prepared.rows, nbytes=_registered_nbytes(sink, existing)
        )
    folder = target.run_folder(prepared.version, new_run_id())
    won = False
    try:
        with sink.lease(f"{folder}/{RUN_MARKER}") as lease:
            with progress.phase(f"writing {sink.location}/{folder}") as report:
                parts = prepared.write_parts(folder, sink, report)
                sink.upload_text(f"{folder}/MLTable", MLTABLE_TEXT)
                report.advance(rows=prepared.rows)
            manifest = Manifest(version=prepared.version, rows=prepared.rows, parts=parts, schema=prepared.schema)
            sink.upload_text(f"{folder}/{COMPLETE_MARKER}", manifest.to_json())
            if lease.lost is not None:
                raise BootstrapError(
                    f"lost the lease on {folder} while uploading ({lease.lost})", "re-run; check the storage network"
                )
            won = claim_version(prepared.version, folder, target=target, sink=sink, registry=registry)
            if won:  # registered while the lease is held, so no sweep can take the folder for stale meanwhile
                ref = AssetRef(
                    name=target.asset_name, version=prepared.version, path=datastore_uri(target.datastore, folder)
                )
                query = " ".join(target.query.split())[:256]
                tags = {"source": "snowflake", "rows": str(prepared.rows), "query": query, **prepared.tags}
                description = f"GloboRealty raw house prices from Snowflake ({prepared.rows:,} rows)"
                registry.register(ref, description=description, tags={**tags, CURRENT_TAG: _now()})
                return ImportResult(asset=ref, created=True, rows=prepared.rows, nbytes=manifest.nbytes)
    finally:
        if not won:  # failed, interrupted or lost the claim: this run's folder is nobody's
            sink.delete_prefix(folder + "/")
    registered = registry.get(target.asset_name, prepared.version)
    if registered is None:
        raise BootstrapError(
            f"version {prepared.version} was claimed by another run but is not registered", "re-run apply"
        )
    _make_current(registry, registered)
    return ImportResult(
        asset=registered, created=False, rows=prepared.rows, nbytes=_registered_nbytes(sink, registered)
    )


CLAIM_WAIT_SECONDS = 120.0


def claim_version(version: str, folder: str, *, target: ImportTarget, sink: BlobSink, registry: AssetRegistry) -> bool:
    """True if ``folder`` now holds ``version``'s claim (first writer wins). False once another run's
    claim is registered. A run registers only its own folder, while it holds its lease; so if the
    claim's owner dies before registering (its lease lapses), its claim is deleted, only if unchanged
    since read, and this run claims again."""
    claim = target.claim(version)
    deadline = time.monotonic() + CLAIM_WAIT_SECONDS
    while not sink.create_if_absent(claim, folder):
        if registry.get(target.asset_name, version) is not None:
            return False
        held = sink.read_with_etag(claim)
        if held is None:
            continue  # deleted meanwhile: claim again
        owner, etag = held
        if not sink.is_leased(f"{owner.strip()}/{RUN_MARKER}"):
            if registry.get(target.asset_name, version) is not None:  # it registered, then released
                return False
            sink.delete_if_unchanged(claim, etag)
            continue
        if time.monotonic() > deadline:
            raise BootstrapError(
                f"version {version} is still being registered by another run ({owner.strip()})", "re-run apply"
            )
        time.sleep(0.5)  # the owner is alive and about to register
    return True


def prepare_and_publish(
    prepare: Callable[[Path], Prepared],
    *,
    target: ImportTarget,
    sink: BlobSink,
    registry: AssetRegistry,
    progress: ProgressPrinter,
    workdir: Path | None = None,
) -> ImportResult:
    """``prepare`` in a scratch folder, publish, then drop what it left behind."""
    with tempfile.TemporaryDirectory(prefix="data-bootstrap-", dir=workdir) as scratch:
        prepared = prepare(Path(scratch))
        try:
            return publish(prepared, target=target, sink=sink, registry=registry, progress=progress)
        finally:
            prepared.close()


def import_with(
    engine: ImportEngine,
    job: ImportJob,
    *,
    registry: AssetRegistry,
    progress: ProgressPrinter,
    workdir: Path | None = None,
) -> ImportResult:
    """Preflight, prepare and publish in one call (the local rehearsal and the benchmark)."""
    engine.preflight(job)
    return prepare_and_publish(
        lambda scratch: engine.prepare(job, scratch=scratch, progress=progress),
        target=job.target,
        sink=job.sink,
        registry=registry,
        progress=progress,
        workdir=workdir,
    )
