"""The unload engine against its stand-in (fakesnow runs the SQL, Azurite holds the parts): version and
contract computed in the warehouse before anything is written, the parts COPY writes, and the
refusals (issue 17 items 1, 3, 4)."""

# pyarrow ships no type information (no stubs in the lock)

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from azure.storage.blob import ContainerClient
from rich.console import Console

from data_bootstrap.azure.blob_sink import BlobSink
from data_bootstrap.engines import ImportEngine, ImportJob, engine_for
from data_bootstrap.engines.unload import measure, preflight_snowflake, unload_parts
from data_bootstrap.errors import BootstrapError
from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.publishing.fingerprint import FINGERPRINT_TAG
from data_bootstrap.publishing.layout import ImportTarget
from data_bootstrap.publishing.publish import import_with, read_manifest
from data_bootstrap.rehearsal.demo import local_job
from data_bootstrap.rehearsal.emulators import FakesnowServer
from data_bootstrap.rehearsal.local_catalog import LocalAssetCatalog
from data_bootstrap.rehearsal.unload_standin import (
    StandinAccount,
    StandinWarehouse,
    standin_connection,
    standin_engine,
)
from data_bootstrap.settings import REPO_ROOT, load_config
from stacks.config import DataContractSection
from tests.data_bootstrap.bootstrap_fakes import ROWS, TABLE
from tests.data_bootstrap.test_unload_sql import OBJECTS

ACCOUNT_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stgloborealtymldevx3f"


def target(query: str = f"SELECT * FROM {TABLE}") -> ImportTarget:
    return ImportTarget(asset_name="raw_house_data", datastore="rawdata", path_prefix="raw_house_data", query=query)


@pytest.fixture
def warehouse(fakesnow: FakesnowServer, container: ContainerClient, tmp_path: Path) -> Iterator[StandinWarehouse]:
    connection = standin_connection(fakesnow.connect_args(), database="GLOBOREALTY", schema="REAL_ESTATE")
    try:
        yield StandinWarehouse(
            connection=connection,
            objects=OBJECTS,
            sink=BlobSink(container=container),
            account=StandinAccount.as_declared(OBJECTS, storage_account_id=ACCOUNT_ID),
            scratch=tmp_path,
        )
    finally:
        connection.close()


def copy_of_table(warehouse: StandinWarehouse, *, change: str = "") -> str:
    name = f"GLOBOREALTY.REAL_ESTATE.RAW_{uuid.uuid4().hex[:8].upper()}"
    warehouse.rows(f"CREATE TABLE {name} AS SELECT * FROM {TABLE}")
    if change:
        warehouse.rows(change.format(table=name))
    return name


def test_the_version_comes_from_the_warehouse_and_ignores_row_order(warehouse: StandinWarehouse) -> None:
    first = measure(warehouse, target=target(), contract=DataContractSection())
    assert first.rows == ROWS and len(first.version) == 16
    assert {"MARKET", "LOCATION", "PRICE"} <= {name for name, _ in first.schema}
    table = copy_of_table(warehouse)
    ordered = f"SELECT * FROM {table} ORDER BY PRICE DESC"
    again = measure(warehouse, target=target(ordered), contract=DataContractSection())
    reordered = measure(
        warehouse, target=target(f"SELECT * FROM {table} ORDER BY LOCATION"), contract=DataContractSection()
    )
    assert again.version != first.version  # another query is another version (as for the stream engine)
    assert (again.rows, again.schema) == (first.rows, first.schema)
    assert warehouse.statements[-1].startswith("SELECT COUNT(*) AS ROW_COUNT")
    assert reordered.version != again.version  # the query text differs
    same = measure(warehouse, target=target(ordered), contract=DataContractSection())
    assert same.version == again.version


def test_one_changed_value_changes_the_version(warehouse: StandinWarehouse) -> None:
    table = copy_of_table(warehouse)
    query = target(f"SELECT * FROM {table}")
    before = measure(warehouse, target=query, contract=DataContractSection())
    warehouse.rows(f"UPDATE {table} SET PRICE = PRICE + 1 WHERE PRICE = (SELECT MAX(PRICE) FROM {table})")
    after = measure(warehouse, target=query, contract=DataContractSection())
    assert after.rows == before.rows and after.version != before.version


def test_the_contract_is_checked_in_the_warehouse_before_anything_is_written(
    warehouse: StandinWarehouse, container: ContainerClient
) -> None:
    table = copy_of_table(
        warehouse,
        change="UPDATE {table} SET PRICE = -1, MARKET = 'rural' "
        "WHERE YEAR_BUILT = (SELECT MIN(YEAR_BUILT) FROM {table})",
    )
    with pytest.raises(BootstrapError) as caught:
        measure(warehouse, target=target(f"SELECT * FROM {table}"), contract=DataContractSection())
    message = str(caught.value)
    assert message.startswith("the query result breaks the data contract, nothing registered: ")
    assert "column 'market' has" in message and "outside the allowed values, e.g. 'rural'" in message
    assert "column 'price' has minimum -1, expected >= 0" in message
    assert "\n" not in message
    assert list(container.list_blobs()) == []
    assert not any(s.startswith("COPY") for s in warehouse.statements)


def test_a_missing_column_fails_from_the_description_alone(warehouse: StandinWarehouse) -> None:
    with pytest.raises(BootstrapError, match=r"column 'location' is missing"):
        measure(warehouse, target=target(f"SELECT * EXCLUDE (LOCATION) FROM {TABLE}"), contract=DataContractSection())
    assert [s for s in warehouse.statements if not s.startswith("DESCRIBE")] == []  # no aggregate ran


def test_copy_writes_parts_whose_bytes_and_rows_the_manifest_can_trust(
    warehouse: StandinWarehouse, container: ContainerClient, tmp_path: Path
) -> None:
    measured = measure(warehouse, target=target(), contract=DataContractSection())
    folder = f"raw_house_data/{measured.version}/run-20261129T210000-0a1b2c3d"
    parts = unload_parts(
        warehouse,
        objects=OBJECTS,
        target=target(),
        folder=folder,
        sink=BlobSink(container=container),
        max_file_size=20_000,
        expected_rows=measured.rows,
    )
    assert len(parts) > 1 and sum(p.rows for p in parts) == ROWS
    listed = {b.name: b.size for b in container.list_blobs(name_starts_with=folder + "/")}
    assert listed == {f"{folder}/{p.name}": p.bytes for p in parts}
    local = tmp_path / parts[0].name
    local.write_bytes(container.download_blob(f"{folder}/{parts[0].name}").readall())
    assert pq.read_metadata(local).num_rows == parts[0].rows
    copy = warehouse.statements[-1]
    assert copy.startswith(f"COPY INTO @{OBJECTS.stage}/{measured.version}/run-20261129T210000-0a1b2c3d/part FROM (")


def test_rows_that_changed_between_check_and_copy_register_nothing(
    warehouse: StandinWarehouse, container: ContainerClient
) -> None:
    with pytest.raises(BootstrapError, match=r"COPY wrote 2,000 rows but the check counted 1,999"):
        unload_parts(
            warehouse,
            objects=OBJECTS,
            target=target(),
            folder="raw_house_data/v/run-x",
            sink=BlobSink(container=container),
            max_file_size=10_000_000,
            expected_rows=ROWS - 1,
        )


def refused(warehouse: StandinWarehouse, objects: Any = OBJECTS) -> str:
    with pytest.raises(BootstrapError) as caught:
        preflight_snowflake(warehouse, objects)
    assert "\n" not in str(caught.value)
    assert not any(s.startswith(("COPY", "CREATE", "ALTER")) for s in warehouse.statements)
    return str(caught.value)


def test_refuses_without_the_storage_integration(warehouse: StandinWarehouse) -> None:
    warehouse.account.integration = None
    assert refused(warehouse).startswith("storage integration AML_RAW_UNLOAD does not exist")


def test_refuses_an_integration_allowed_beyond_the_prefix(warehouse: StandinWarehouse) -> None:
    assert warehouse.account.integration is not None
    warehouse.account.integration["STORAGE_ALLOWED_LOCATIONS"] = "azure://stgloborealtymldevx3f.blob.core.windows.net/"
    assert "is not limited to azure://stgloborealtymldevx3f.blob.core.windows.net/rawdata/raw_house_data/" in refused(
        warehouse
    )


def test_refuses_an_integration_that_is_not_private(warehouse: StandinWarehouse) -> None:
    assert warehouse.account.integration is not None
    warehouse.account.integration["USE_PRIVATELINK_ENDPOINT"] = "false"
    assert "USE_PRIVATELINK_ENDPOINT: false -> true" in refused(warehouse)


def test_refuses_without_the_stage(warehouse: StandinWarehouse) -> None:
    warehouse.account.stage = None
    assert refused(warehouse).startswith(f"stage {OBJECTS.stage} does not exist")


def test_refuses_an_account_without_business_critical(warehouse: StandinWarehouse) -> None:
    warehouse.account.privatelink = None
    assert "it needs Business Critical edition or higher" in refused(warehouse)


def test_refuses_without_the_tenant(warehouse: StandinWarehouse) -> None:
    objects = type(OBJECTS)(
        integration=OBJECTS.integration, stage=OBJECTS.stage, tenant_id="", location=OBJECTS.location
    )
    assert refused(warehouse, objects).startswith("the stack outputs carry no tenant_id")


def test_passes_when_everything_is_as_declared(warehouse: StandinWarehouse) -> None:
    info = preflight_snowflake(warehouse, OBJECTS)
    assert info["INFO"][0]["provider_resource_id"] == ACCOUNT_ID


@pytest.fixture
def rehearsal_job(fakesnow: FakesnowServer, container: ContainerClient, tmp_path: Path) -> ImportJob:
    config = load_config(REPO_ROOT / "config" / "dev.toml", env="dev")
    return local_job(config, snow=fakesnow, sink=BlobSink(container=container), scratch=tmp_path)


def quiet() -> ProgressPrinter:
    return ProgressPrinter(console=Console(stderr=True, quiet=True))


def test_the_unload_engine_publishes_the_same_layout_and_a_rerun_reuses(
    rehearsal_job: ImportJob, container: ContainerClient, tmp_path: Path
) -> None:
    catalog = LocalAssetCatalog(path=tmp_path / "catalog.json")
    first = import_with(standin_engine(), rehearsal_job, registry=catalog, progress=quiet(), workdir=tmp_path)
    assert first.created and first.rows == ROWS
    manifest = read_manifest(rehearsal_job.sink, first.asset.folder)
    assert manifest is not None and manifest.version == first.asset.version and manifest.rows == ROWS
    names = {b.name.rsplit("/", 1)[1] for b in container.list_blobs(name_starts_with=first.asset.folder + "/")}
    assert names == {"MLTable", "_COMPLETE", "_RUN", *(p.name for p in manifest.parts)}
    assert first.asset.path == f"azureml://datastores/rawdata/paths/{first.asset.folder}/"
    registered = catalog.get(first.asset.name, first.asset.version)
    assert registered is not None and registered.tags[FINGERPRINT_TAG] == first.asset.version
    again = import_with(standin_engine(), rehearsal_job, registry=catalog, progress=quiet(), workdir=tmp_path)
    assert not again.created and again.asset.version == first.asset.version


@pytest.mark.parametrize("order", [("stream", "unload"), ("unload", "stream")])
def test_the_same_data_through_the_other_engine_reuses_the_version(
    rehearsal_job: ImportJob, tmp_path: Path, order: tuple[str, str]
) -> None:
    """Issue 17 item 1: the two engines compute different versions of the same rows; the warehouse
    fingerprint both stamp makes the second import find the first's version instead of registering a
    second 'current' one."""
    engines: dict[str, ImportEngine] = {"stream": engine_for(rehearsal_job.config), "unload": standin_engine()}
    catalog = LocalAssetCatalog(path=tmp_path / "catalog.json")
    first = import_with(engines[order[0]], rehearsal_job, registry=catalog, progress=quiet(), workdir=tmp_path)
    second = import_with(engines[order[1]], rehearsal_job, registry=catalog, progress=quiet(), workdir=tmp_path)
    assert first.created and not second.created
    assert second.asset.version == first.asset.version
    assert [ref.version for ref in catalog.versions(first.asset.name)] == [first.asset.version]


def test_a_stream_import_of_changed_data_is_a_new_version(
    rehearsal_job: ImportJob, tmp_path: Path, fakesnow: FakesnowServer
) -> None:
    catalog = LocalAssetCatalog(path=tmp_path / "catalog.json")
    first = import_with(standin_engine(), rehearsal_job, registry=catalog, progress=quiet(), workdir=tmp_path)
    changed = dataclasses.replace(
        rehearsal_job, target=dataclasses.replace(rehearsal_job.target, query=f"SELECT * FROM {TABLE} WHERE PRICE > 0")
    )
    second = import_with(
        engine_for(rehearsal_job.config), changed, registry=catalog, progress=quiet(), workdir=tmp_path
    )
    assert second.created and second.asset.version != first.asset.version
