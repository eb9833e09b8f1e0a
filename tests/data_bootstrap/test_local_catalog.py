"""The local asset catalog (stand-in for Azure ML's registry): idempotent imports, no half registrations."""

# pyarrow ships no type information (no stubs in the lock)

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest
from azure.storage.blob import ContainerClient

from data_bootstrap.azure.blob_sink import BlobSink
from data_bootstrap.engines.stream import run_import
from data_bootstrap.errors import BootstrapError
from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.publishing.assets import AssetRef, current
from data_bootstrap.publishing.publish import COMPLETE_MARKER, ImportResult, ImportTarget
from data_bootstrap.rehearsal.local_catalog import LocalAssetCatalog
from data_bootstrap.rehearsal.synthetic import house_prices
from stacks.config import DataContractSection

TARGET = ImportTarget(
    asset_name="raw_house_data", datastore="rawdata", path_prefix="raw_house_data", query="SELECT * FROM T"
)


def import_into(catalog: LocalAssetCatalog, sink: BlobSink, table: pa.Table) -> ImportResult:
    batches = table.to_batches(max_chunksize=400)
    return run_import(
        batches, target=TARGET, contract=DataContractSection(), sink=sink, registry=catalog, progress=ProgressPrinter()
    )


@pytest.mark.emulators
def test_same_content_reuses_the_version_and_changed_content_gets_a_new_one(
    container: ContainerClient, tmp_path: Path
) -> None:
    sink = BlobSink(container=container)
    path = tmp_path / "catalog.json"
    table = house_prices(1_000, seed=11)

    first = import_into(LocalAssetCatalog(path=path), sink, table)
    assert first.created
    # a new catalog object over the same file (a second demo run) sees the version and reuses it
    again = import_into(LocalAssetCatalog(path=path), sink, table.take(pa.array(range(999, -1, -1))))
    assert (again.created, again.asset) == (False, first.asset)
    assert [a["version"] for a in json.loads(path.read_text())["assets"]] == [first.asset.version]

    changed = import_into(LocalAssetCatalog(path=path), sink, house_prices(1_000, seed=12))
    assert changed.created and changed.asset.version != first.asset.version
    catalog = LocalAssetCatalog(path=path)
    assert current(catalog, "raw_house_data") == changed.asset
    assert catalog.get("raw_house_data", first.asset.version) == first.asset
    assert catalog.get("raw_house_data", "0000000000000000") is None
    assert current(catalog, "other") is None
    assert sink.exists(f"{first.asset.folder}/{COMPLETE_MARKER}")

    # issue 12, item 7: back to the first content: nothing new is written, and current follows the data
    reverted = import_into(LocalAssetCatalog(path=path), sink, table)
    assert (reverted.created, reverted.asset) == (False, first.asset)
    assert current(LocalAssetCatalog(path=path), "raw_house_data") == first.asset


class FailingUpload(BlobSink):
    def upload_text(self, name: str, text: str) -> None:
        if name.endswith(COMPLETE_MARKER):
            raise OSError("upload interrupted")
        super().upload_text(name, text)


@pytest.mark.emulators
def test_an_interrupted_upload_registers_nothing(container: ContainerClient, tmp_path: Path) -> None:
    catalog = LocalAssetCatalog(path=tmp_path / "catalog.json")
    with pytest.raises(OSError, match="upload interrupted"):
        import_into(catalog, FailingUpload(container=container), house_prices(500, seed=2))
    assert not catalog.path.exists()
    assert current(catalog, "raw_house_data") is None
    assert list(container.list_blob_names()) == []  # the interrupted run removed its own folder
    result = import_into(catalog, BlobSink(container=container), house_prices(500, seed=2))
    assert result.created and current(catalog, "raw_house_data") == result.asset


def test_an_interrupted_catalog_write_keeps_the_previous_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = LocalAssetCatalog(path=tmp_path / "catalog.json")
    kept = AssetRef(name="raw_house_data", version="1111111111111111", path="azureml://datastores/d/paths/a/1/")
    catalog.register(kept, description="first", tags={})
    before = catalog.path.read_bytes()

    def crash(fd: int) -> None:
        raise KeyboardInterrupt  # e.g. Ctrl-C between writing and renaming

    monkeypatch.setattr(os, "fsync", crash)
    new = AssetRef(name="raw_house_data", version="2222222222222222", path="azureml://datastores/d/paths/a/2/")
    with pytest.raises(KeyboardInterrupt):
        catalog.register(new, description="second", tags={})
    assert catalog.path.read_bytes() == before
    assert current(catalog, "raw_house_data") == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.json", "catalog.json.lock"]  # no temporary file


def test_a_damaged_catalog_is_one_line_with_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(BootstrapError, match=r"catalog\.json is unreadable; fix: delete it"):
        LocalAssetCatalog(path=path).versions("raw_house_data")
