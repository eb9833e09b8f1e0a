"""The import path against Azurite: layout, loadability, content versions, no half assets, bounded memory."""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import mltable
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from azure.storage.blob import BlobLeaseClient, ContainerClient

from data_bootstrap.azure.blob_sink import BlobSink
from data_bootstrap.engines.stream import run_import, spill_to_parquet
from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.publishing.assets import AssetRef
from data_bootstrap.publishing.layout import CLAIM
from data_bootstrap.publishing.publish import COMPLETE_MARKER, ImportTarget, claim_version, sweep
from data_bootstrap.rehearsal.synthetic import house_prices
from stacks.config import DataContractSection

pytestmark = pytest.mark.emulators

QUERY = "SELECT * FROM GLOBOREALTY.REAL_ESTATE.RAW"
TARGET = ImportTarget(asset_name="raw_house_data", datastore="rawdata", path_prefix="raw_house_data", query=QUERY)
CONTRACT = DataContractSection()


@dataclass
class RecordingRegistry:
    """An in-memory AssetRegistry that also checks the folder was complete when registered."""

    sink: BlobSink
    assets: dict[tuple[str, str], AssetRef] = field(default_factory=dict)

    def get(self, name: str, version: str) -> AssetRef | None:
        return self.assets.get((name, version))

    def versions(self, name: str) -> list[AssetRef]:
        return [ref for (n, _), ref in self.assets.items() if n == name]

    def register(self, ref: AssetRef, *, description: str, tags: dict[str, str]) -> None:
        assert self.sink.exists(f"{ref.folder}/{COMPLETE_MARKER}"), "registered before the manifest"
        assert (ref.name, ref.version) not in self.assets, "a registered version was registered again"
        self.assets[(ref.name, ref.version)] = replace(ref, tags=tags)

    def set_tags(self, ref: AssetRef, tags: dict[str, str]) -> None:
        old = self.assets[(ref.name, ref.version)]
        self.assets[(ref.name, ref.version)] = replace(old, tags={**old.tags, **tags})


def batches_of(table: pa.Table, size: int) -> Iterator[pa.RecordBatch]:
    yield from table.to_batches(max_chunksize=size)


def import_table(table: pa.Table, sink: BlobSink, registry: RecordingRegistry, *, size: int = 500) -> AssetRef:
    result = run_import(
        batches_of(table, size),
        target=TARGET,
        contract=CONTRACT,
        sink=sink,
        registry=registry,
        progress=ProgressPrinter(),
    )
    return result.asset


def test_written_folder_loads_with_mltable_and_pyarrow(container: ContainerClient, tmp_path: Path) -> None:
    sink = BlobSink(container=container)
    table = house_prices(1_500, seed=3)
    ref = import_table(table, sink, RecordingRegistry(sink))
    folder = ref.folder + "/"
    assert folder.startswith(f"raw_house_data/{ref.version}/run-")
    assert sorted(container.list_blob_names()) == [
        f"raw_house_data/{ref.version}/_CLAIM",
        *(folder + n for n in ("MLTable", COMPLETE_MARKER, "_RUN", "part-00000.parquet")),
    ]
    manifest = json.loads(sink.read_text(folder + COMPLETE_MARKER))
    size = container.get_blob_client(folder + "part-00000.parquet").get_blob_properties().size
    assert manifest["files"] == [{"name": "part-00000.parquet", "bytes": size, "rows": 1_500}]
    assert manifest["rows"] == 1_500 and ["PRICE", "double"] in manifest["schema"]
    local = tmp_path / "asset"
    sink.download_prefix(folder, local)
    frame = mltable.load(str(local)).to_pandas_dataframe()
    assert len(frame) == 1_500
    assert frame.sort_values("ID").reset_index(drop=True).equals(table.to_pandas())
    assert pq.read_table(local / "part-00000.parquet").num_rows == 1_500


def test_large_results_roll_over_into_several_parquet_files(container: ContainerClient, tmp_path: Path) -> None:
    sink = BlobSink(container=container)
    table = house_prices(1_000, seed=6)
    result = run_import(
        batches_of(table, 128),
        target=TARGET,
        contract=CONTRACT,
        sink=sink,
        registry=RecordingRegistry(sink),
        progress=ProgressPrinter(),
        rows_per_file=300,
    )
    sink.download_prefix(result.asset.folder + "/", tmp_path)
    parts = sorted(tmp_path.glob("*.parquet"))
    # a file rolls over at the first whole batch past rows_per_file: 3 x 128, 3 x 128, the rest
    assert [(p.name, pq.read_metadata(p).num_rows) for p in parts] == [
        ("part-00000.parquet", 384),
        ("part-00001.parquet", 384),
        ("part-00002.parquet", 232),
    ]
    assert len(mltable.load(str(tmp_path)).to_pandas_dataframe()) == 1_000


def test_version_ignores_row_order_and_batching_but_not_content(container: ContainerClient) -> None:
    sink = BlobSink(container=container)
    registry = RecordingRegistry(sink)
    table = house_prices(1_000, seed=5)
    first = import_table(table, sink, registry, size=300)
    blobs_before = {b.name: b.last_modified for b in container.list_blobs()}

    shuffled = table.take(pa.array(list(reversed(range(1_000)))))
    again = import_table(shuffled, sink, registry, size=77)
    assert again.version == first.version
    assert {b.name: b.last_modified for b in container.list_blobs()} == blobs_before  # nothing new written
    assert len(registry.assets) == 1

    prices = table.column("PRICE").to_pylist()
    prices[10] += 1.0
    changed = import_table(table.set_column(9, "PRICE", pa.array(prices)), sink, registry)
    assert changed.version != first.version
    assert len(registry.assets) == 2


def test_interrupted_read_registers_and_writes_nothing(container: ContainerClient) -> None:
    sink = BlobSink(container=container)
    registry = RecordingRegistry(sink)

    def failing() -> Iterator[pa.RecordBatch]:
        yield from house_prices(200, seed=1).to_batches(max_chunksize=100)
        raise ConnectionResetError("connection dropped mid-result")

    with pytest.raises(ConnectionResetError):
        run_import(
            failing(), target=TARGET, contract=CONTRACT, sink=sink, registry=registry, progress=ProgressPrinter()
        )
    assert registry.assets == {}
    assert list(container.list_blob_names()) == []


class FailingOnMLTable(BlobSink):
    def upload_text(self, name: str, text: str) -> None:
        if name.endswith("/MLTable"):
            raise KeyboardInterrupt  # Ctrl-C, or SIGTERM through the CLI's handler, mid-upload
        super().upload_text(name, text)


def test_an_interrupted_upload_removes_its_own_folder_and_registers_nothing(container: ContainerClient) -> None:
    """Issue 12, item 6: an interrupted run cleans up after itself."""
    table = house_prices(800, seed=9)
    broken = FailingOnMLTable(container=container)
    registry = RecordingRegistry(broken)
    with pytest.raises(KeyboardInterrupt):
        import_table(table, broken, registry)
    assert registry.assets == {}
    assert list(container.list_blob_names()) == []

    sink = BlobSink(container=container)
    ref = import_table(table, sink, RecordingRegistry(sink))
    assert sorted(n.rsplit("/", 1)[1] for n in container.list_blob_names()) == [
        "MLTable",
        "_CLAIM",
        COMPLETE_MARKER,
        "_RUN",
        "part-00000.parquet",
    ]
    assert ref.path.endswith(f"/{ref.folder}/")


def test_a_killed_runs_folder_is_reported_stale_and_removed_but_registered_ones_never(
    container: ContainerClient,
) -> None:
    """Issue 12, item 6: a SIGKILLed run leaves a partial folder (no manifest, a lapsed lease); and a
    folder of the layout before run folders, never registered. The next import removes both, keeps
    every registered folder."""
    sink = BlobSink(container=container)
    registry = RecordingRegistry(sink)
    kept = import_table(house_prices(300, seed=1), sink, registry)
    killed = "raw_house_data/0123456789abcdef/run-20261129T000000-deadbeef"
    container.upload_blob(f"{killed}/part-00000.parquet", b"partial")
    container.upload_blob(f"{killed}/_RUN", b"")
    # the dead run's lease: taken, then lapsed with the process (breaking it stands in for waiting 15-60 s)
    container.get_blob_client(f"{killed}/_RUN").acquire_lease(lease_duration=15).break_lease(lease_break_period=0)
    container.upload_blob("raw_house_data/fedcba9876543210/part-00000.parquet", b"old layout, interrupted")
    # a live run: holds its lease
    live = "raw_house_data/1111111111111111/run-20261129T000001-cafecafe"
    with sink.lease(f"{live}/_RUN"):
        states = {state.folder: state for state in sweep(TARGET, sink=sink, registry=registry)}
        assert states[killed].stale and states["raw_house_data/fedcba9876543210"].stale
        assert not states[live].stale and states[live].live
        assert not states[kept.folder].stale and states[kept.folder].registered
        assert not states[f"raw_house_data/{kept.version}"].stale  # the claim of a registered version

        changed = import_table(house_prices(300, seed=2), sink, registry)
    remaining = set(container.list_blob_names())
    assert not any(name.startswith((killed, "raw_house_data/fedcba9876543210/")) for name in remaining)
    assert f"{live}/_RUN" in remaining
    assert {kept.folder, changed.folder} <= {name.rsplit("/", 1)[0] for name in remaining}


def test_memory_does_not_grow_with_row_count(container: ContainerClient) -> None:
    """Arrow memory in use while spilling stays near one batch, for 10x or 50x the rows."""
    sink = BlobSink(container=container)
    one_batch = house_prices(2_000, seed=0).nbytes

    def peak_for(repeats: int) -> int:
        peak = 0

        def stream() -> Iterator[pa.RecordBatch]:
            nonlocal peak
            for index in range(repeats):  # every batch freshly allocated, as from the network
                yield from house_prices(2_000, seed=index).to_batches()
                peak = max(peak, pa.total_allocated_bytes())

        run_import(
            stream(),
            target=TARGET,
            contract=CONTRACT,
            sink=sink,
            registry=RecordingRegistry(sink),
            progress=ProgressPrinter(),
        )
        return peak

    small, large = peak_for(5), peak_for(50)
    assert large < small + one_batch * 2, (small, large)


def test_a_new_path_prefix_writes_the_same_rows_there(container: ContainerClient) -> None:
    """Issue 12, item 10: changing path_prefix with unchanged content wrote nothing."""
    sink = BlobSink(container=container)
    registry = RecordingRegistry(sink)
    table = house_prices(200, seed=4)
    first = import_table(table, sink, registry)
    moved = run_import(
        batches_of(table, 64),
        target=replace(TARGET, path_prefix="bronze/house_data"),
        contract=CONTRACT,
        sink=sink,
        registry=registry,
        progress=ProgressPrinter(),
    )
    assert moved.created and moved.asset.version != first.version
    assert moved.asset.folder.startswith(f"bronze/house_data/{moved.asset.version}/run-")
    assert sink.exists(f"{moved.asset.folder}/part-00000.parquet")


def test_a_claim_whose_owner_died_before_registering_is_taken_over(container: ContainerClient) -> None:
    """A run registers only its own folder, under its lease: a dead owner's claim is replaced, a live
    owner is waited for."""
    sink = BlobSink(container=container)
    registry = RecordingRegistry(sink)
    dead = "raw_house_data/2222222222222222/run-20261129T000000-dead0000"
    container.upload_blob(f"raw_house_data/2222222222222222/{CLAIM}", dead.encode())
    container.upload_blob(f"{dead}/_RUN", b"")
    BlobLeaseClient(container.get_blob_client(f"{dead}/_RUN")).acquire(lease_duration=15)
    mine = "raw_house_data/2222222222222222/run-20261129T000001-beef0000"
    lease = BlobLeaseClient(container.get_blob_client(f"{dead}/_RUN"))
    lease.break_lease(lease_break_period=0)  # the owner died: its lease lapsed
    assert claim_version("2222222222222222", mine, target=TARGET, sink=sink, registry=registry)
    assert sink.read_text(f"raw_house_data/2222222222222222/{CLAIM}") == mine

    other = "raw_house_data/2222222222222222/run-20261129T000002-cafe0000"
    ref = AssetRef(
        name="raw_house_data", version="2222222222222222", path=f"azureml://datastores/rawdata/paths/{mine}/"
    )
    with sink.lease(f"{mine}/_RUN"):  # the owner is alive; it registers a moment later
        container.upload_blob(f"{mine}/{COMPLETE_MARKER}", b"{}")
        timer = threading.Timer(1.0, lambda: registry.register(ref, description="", tags={}))
        timer.start()
        assert not claim_version("2222222222222222", other, target=TARGET, sink=sink, registry=registry)
        timer.join()


def test_a_file_rolls_over_exactly_when_it_reaches_rows_per_file(tmp_path: Path) -> None:
    """At the boundary: two 128-row batches fill a 256-row file, the third starts the next one."""
    spill = spill_to_parquet(
        batches_of(house_prices(640, seed=9), 128),
        workdir=tmp_path,
        target=TARGET,
        contract=CONTRACT,
        progress=ProgressPrinter(),
        rows_per_file=256,
    )
    assert [(path.name, rows) for path, rows in spill.files] == [
        ("part-00000.parquet", 256),
        ("part-00001.parquet", 256),
        ("part-00002.parquet", 128),
    ]
    assert [pq.read_metadata(path).num_rows for path, _ in spill.files] == [256, 256, 128]
