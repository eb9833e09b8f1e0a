"""The ``unload`` engine: Snowflake writes the Parquet parts into the raw container itself (COPY INTO @stage).

No row passes through this process. Before anything is written, one aggregate query in the warehouse
counts the rows, fingerprints them (``HASH_AGG(*)``) and checks the data contract (``WarehouseCheck``);
the version is the warehouse fingerprint (``publishing.fingerprint``). Then the shared publish flow
leases the run folder ``<path_prefix>/<version>/<run>/`` and this engine runs
``COPY INTO @<stage>/<version>/<run>/part ...`` (the stage's URL is the asset prefix), lists the folder
in the container and pairs each file with COPY's detailed output (file name, bytes, rows); the shared
flow then writes MLTable + manifest, claims and registers the folder as the same ``mltable`` asset.

Consistency: the check query and the COPY are two statements; each sees the data committed when it
starts (docs.snowflake.com/en/sql-reference/transactions, READ COMMITTED). If the rows COPY wrote differ
in number from the rows the check counted, the run stops and registers nothing. A change between the two
statements that keeps the count is not caught: query a stable source (a table loaded before the import,
or ``AT(TIMESTAMP => ...)`` Time Travel) when the table is written while importing.

Refusals (one line, exit 2, before any write): no tenant in the stack outputs; the storage integration missing,
not Azure, not private, or allowing more than the asset prefix; the stage missing or pointing elsewhere;
Snowflake's private endpoint missing, not approved or the account without outbound private connectivity
(docs.snowflake.com/en/user-guide/private-connectivity-outbound; Business Critical edition or higher, as
issue 17 states: an account without it answers SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO with an error, which
is the signal we use, since the edition itself is visible only to ORGADMIN:
docs.snowflake.com/en/sql-reference/organization-usage/accounts); the storage account open beyond its
private endpoints (``azure.private_endpoints``).
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from snowflake.connector import DictCursor
from snowflake.connector.errors import ProgrammingError

from data_bootstrap.azure.blob_sink import BlobSink
from data_bootstrap.azure.private_endpoints import (
    ApprovalPlan,
    StorageAccountArm,
    apply_approval,
    plan_approval,
    snowflake_endpoint,
)
from data_bootstrap.engines import ImportJob, Prepared
from data_bootstrap.errors import BootstrapError
from data_bootstrap.progress import ProgressPrinter, Reporter
from data_bootstrap.publishing.contract import contract_error
from data_bootstrap.publishing.fingerprint import FINGERPRINT_TAG, warehouse_fingerprint
from data_bootstrap.publishing.layout import ImportTarget, PartFile
from data_bootstrap.snowflake.integration import (
    Observed,
    SnowflakeSqlError,
    UnloadLocation,
    UnloadObjects,
    apply_objects,
    integration_differences,
    observe,
    statements,
)
from data_bootstrap.snowflake.source import SnowflakeParams, SnowflakeSource
from data_bootstrap.snowflake.unload_sql import (
    HASH_AGG,
    PRIVATELINK_ENDPOINTS_SQL,
    ResultColumn,
    WarehouseCheck,
    copy_into_sql,
    fingerprint_sql,
    provision_endpoint_sql,
    schema_of,
)
from stacks.config import DataContractSection, EnvironmentConfig

ENGINE = "unload"


class Warehouse(Protocol):
    """What the engine asks of a Snowflake session (the connector in production, fakesnow + Azurite in
    the rehearsal's stand-in)."""

    def describe(self, sql: str) -> list[ResultColumn]: ...

    def rows(self, sql: str) -> list[dict[str, Any]]: ...

    def hash_expression(self, columns: Sequence[ResultColumn]) -> str: ...


@dataclass(frozen=True, kw_only=True)
class Measured:
    """What the warehouse told us before anything was written."""

    version: str  # = the warehouse fingerprint
    rows: int
    schema: tuple[tuple[str, str], ...]  # (column, Snowflake type)


def unload_objects(config: EnvironmentConfig, *, storage_account: str, container: str, tenant_id: str) -> UnloadObjects:
    s, u = config.snowflake, config.unload
    return UnloadObjects(
        integration=u.storage_integration,
        stage=f"{s.database}.{s.schema}.{u.stage}",
        tenant_id=tenant_id,
        location=UnloadLocation(
            storage_account=storage_account, container=container, path_prefix=config.data_asset.path_prefix
        ),
    )


def _query_failed(error: SnowflakeSqlError) -> BootstrapError:
    return BootstrapError(
        f"Snowflake query failed ({error.message})",
        "fix snowflake.query in the config or grant the role access to the table",
    )


def measure(warehouse: Warehouse, *, target: ImportTarget, contract: DataContractSection) -> Measured:
    """Describes the result (nothing runs), then one aggregate query: rows, HASH_AGG, the contract."""
    try:
        columns = tuple(warehouse.describe(target.query))
    except SnowflakeSqlError as error:
        raise _query_failed(error) from None
    check = WarehouseCheck(
        query=target.query, columns=columns, contract=contract, hash_expression=warehouse.hash_expression(columns)
    )
    if check.schema_problems:
        raise contract_error(check.schema_problems)
    try:
        (row,) = warehouse.rows(check.sql)
    except SnowflakeSqlError as error:
        raise _query_failed(error) from None
    rows, row_hash, problems = check.read(list(row.values()))
    if rows == 0:
        raise BootstrapError(
            "the Snowflake query returned no rows", "check snowflake.query and that the table is loaded"
        )
    if problems:
        raise contract_error(problems)
    schema = schema_of(columns)
    return Measured(
        version=warehouse_fingerprint(target, schema=schema, rows=rows, row_hash=row_hash), rows=rows, schema=schema
    )


def unload_parts(
    warehouse: Warehouse,
    *,
    objects: UnloadObjects,
    target: ImportTarget,
    folder: str,
    sink: BlobSink,
    max_file_size: int,
    expected_rows: int,
) -> tuple[PartFile, ...]:
    """COPY INTO the run folder; each part's bytes from the container listing, rows from COPY's output."""
    relative = folder[len(target.path_prefix) + 1 :]  # the stage URL ends at the asset prefix
    sql = copy_into_sql(stage=objects.stage, folder=relative, query=target.query, max_file_size=max_file_size)
    try:
        output = warehouse.rows(sql)
    except SnowflakeSqlError as error:
        raise BootstrapError(
            f"Snowflake could not unload into {objects.location.url}{relative}/ ({error.message})",
            "run `data_bootstrap plan` to see the integration, stage and private endpoint state",
        ) from None
    copied = {posixpath.basename(str(row["FILE_NAME"])): int(row["ROW_COUNT"]) for row in output}
    listed = {
        blob.name.rsplit("/", 1)[1]: blob.size
        for blob in sink.list_info(folder + "/")
        if blob.name.endswith(".parquet") and blob.name.count("/") == folder.count("/") + 1
    }
    if set(copied) != set(listed):
        raise BootstrapError(
            f"COPY reported {sorted(copied)} but {sink.location}/{folder}/ holds {sorted(listed)}",
            "re-run apply; if it persists, check that nothing else writes under the asset prefix",
        )
    if (written := sum(copied.values())) != expected_rows:
        raise BootstrapError(
            f"COPY wrote {written:,} rows but the check counted {expected_rows:,}: the source changed meanwhile",
            "re-run apply when the table is not being written, or query a stable snapshot (Time Travel AT(...))",
        )
    return tuple(PartFile(name=name, bytes=listed[name], rows=copied[name]) for name in sorted(copied))


def preflight_snowflake(warehouse: Warehouse, objects: UnloadObjects) -> dict[str, Any]:
    """Refuses before any write if the integration or stage would let Snowflake write anywhere but the
    asset prefix, or not privately; returns Snowflake's privatelink endpoint info (for the approval)."""
    if not objects.tenant_id:
        raise BootstrapError(
            "the stack outputs carry no tenant_id: the storage integration needs the storage account's tenant",
            "rewrite the outputs file from the current mlplatform stack (it outputs tenant_id)",
        )
    observed = observe(objects, warehouse)
    _refuse_drift(objects, observed)
    try:
        (row,) = warehouse.rows(PRIVATELINK_ENDPOINTS_SQL)
    except SnowflakeSqlError as error:
        raise BootstrapError(
            f"Snowflake account cannot use outbound private connectivity ({error.message}): "
            "it needs Business Critical edition or higher",
            "upgrade the Snowflake account's edition, or use [data_asset].engine = 'stream'",
        ) from None
    return row


def _refuse_drift(objects: UnloadObjects, observed: Observed) -> None:
    if observed.integration is None:
        raise BootstrapError(
            f"storage integration {objects.integration} does not exist (or role may not see it)",
            "run `data_bootstrap plan --step unload` and have ACCOUNTADMIN run the DDL it prints",
        )
    if differences := integration_differences(objects, observed.integration):
        raise BootstrapError(
            f"storage integration {objects.integration} is not limited to {objects.location.url} "
            f"over private connectivity ({'; '.join(differences)})",
            "run `data_bootstrap apply --step unload` (or as ACCOUNTADMIN the ALTER it prints)",
        )
    if observed.stage is None:
        raise BootstrapError(f"stage {objects.stage} does not exist", "run `data_bootstrap apply --step unload`")


def fingerprint_of(warehouse: Warehouse, target: ImportTarget) -> tuple[str, int]:
    """(warehouse fingerprint, rows) without the contract: what the stream engine stamps its versions
    with, so the same data imported by either engine is found by the other (``publishing.fingerprint``)."""
    columns = warehouse.describe(target.query)
    (row,) = warehouse.rows(fingerprint_sql(target.query, warehouse.hash_expression(columns)))
    rows, row_hash = list(row.values())[:2]
    fingerprint = warehouse_fingerprint(target, schema=schema_of(columns), rows=int(rows), row_hash=str(row_hash))
    return fingerprint, int(rows)


def open_warehouse(job: ImportJob, name: str) -> Warehouse:
    """A session on warehouse ``name`` ('' = snowflake.warehouse): the job's, else the connector's."""
    if job.warehouse is not None:
        return job.warehouse(name)
    return ConnectorWarehouse(job.snowflake(), warehouse=name)


def warehouse_fingerprint_of(job: ImportJob) -> tuple[str, int]:
    """The stream engine's fingerprint: two statements (describe, one aggregate) in the warehouse."""
    warehouse = open_warehouse(job, "")
    try:
        return fingerprint_of(warehouse, job.target)
    finally:
        _close(warehouse)


class ConnectorWarehouse:
    """The production ``Warehouse``: one Snowflake session (key-pair auth) on ``[unload].warehouse``."""

    def __init__(self, params: SnowflakeParams, *, warehouse: str) -> None:
        coordinates = dataclasses.replace(params.coordinates, warehouse=warehouse or params.coordinates.warehouse)
        self._connection = SnowflakeSource(params=dataclasses.replace(params, coordinates=coordinates), query="").open()

    def describe(self, sql: str) -> list[ResultColumn]:
        try:
            return [ResultColumn.from_metadata(m) for m in self._connection.cursor().describe(sql)]
        except ProgrammingError as error:
            raise SnowflakeSqlError(error.errno or 0, error.msg or str(error)) from None

    def rows(self, sql: str) -> list[dict[str, Any]]:
        try:
            found = self._connection.cursor(DictCursor).execute(sql).fetchall()
        except ProgrammingError as error:
            raise SnowflakeSqlError(error.errno or 0, error.msg or str(error)) from None
        return [{str(k).upper(): v for k, v in row.items()} for row in found]

    def hash_expression(self, columns: Sequence[ResultColumn]) -> str:
        return HASH_AGG

    def close(self) -> None:
        self._connection.close()


class Endpoints(Protocol):
    """Snowflake's private endpoint to the storage account: what plan says, what apply does."""

    def plan(self, job: ImportJob, info: Any) -> str: ...

    def approve(self, job: ImportJob, info: Any) -> str: ...


class ArmEndpoints:
    """Production: the storage account's private endpoint connections through ARM."""

    def _plan(self, job: ImportJob, info: Any) -> tuple[StorageAccountArm, ApprovalPlan]:
        if job.storage is None:
            raise BootstrapError("the unload engine needs the storage account's ARM ID", "run it through the CLI")
        arm = job.storage.arm()
        endpoint = snowflake_endpoint(info, account_id=job.storage.resource_id)
        host = f"{job.sink.account_name}.blob.core.windows.net"
        provision = provision_endpoint_sql(storage_account_id=job.storage.resource_id, blob_host=host)
        return arm, plan_approval(arm, endpoint, provision_sql=provision)

    def plan(self, job: ImportJob, info: Any) -> str:
        return self._plan(job, info)[1].render()

    def approve(self, job: ImportJob, info: Any) -> str:
        arm, plan = self._plan(job, info)
        changed = apply_approval(arm, plan)
        return plan.render() + (": done" if changed else "")


@dataclass(frozen=True, kw_only=True)
class UnloadEngine:
    """Snowflake unloads in parallel straight into the run folder; nothing passes through this process."""

    name = ENGINE
    connect: Callable[[ImportJob], Warehouse] = lambda job: open_warehouse(job, job.config.unload.warehouse)
    endpoints: Endpoints = dataclasses.field(default_factory=ArmEndpoints)

    def objects(self, job: ImportJob) -> UnloadObjects:
        return unload_objects(
            job.config,
            storage_account=job.sink.account_name,
            container=job.sink.container_name,
            tenant_id=job.storage.tenant_id if job.storage is not None else "",
        )

    def plan_details(self, job: ImportJob) -> list[str]:
        """Reads the integration, the stage and the endpoint state; shows the DDL and the approval apply
        would run. Signs in to Snowflake (plan reads the key, as the connection step does)."""
        objects, u = self.objects(job), job.config.unload
        warehouse = self.connect(job)
        try:
            ddl, notes = statements(objects, observe(objects, warehouse))
            lines = [*notes, *(f"run: {statement}" for statement in ddl)] or [
                f"storage integration {objects.integration} and stage {objects.stage}: unchanged"
            ]
            (info,) = warehouse.rows(PRIVATELINK_ENDPOINTS_SQL)
            lines.append(self.endpoints.plan(job, info["INFO"]))
        finally:
            _close(warehouse)
        return [
            *lines,
            f"check [data_contract] ({len(job.config.data_contract.columns)} columns), count and HASH_AGG the rows "
            f"of {job.target.query!r} in warehouse {u.warehouse or job.config.snowflake.warehouse}",
            f"COPY INTO @{objects.stage}/<content-version>/<run>/part (Parquet, MAX_FILE_SIZE {u.max_file_size:,})",
        ]

    def preflight(self, job: ImportJob) -> None:
        """Makes the declared state true where our identities may (the stage; approving Snowflake's pending
        connection), then refuses in one line whatever still differs, before any data is written."""
        objects = self.objects(job)
        warehouse = self.connect(job)
        try:
            if not objects.tenant_id:
                preflight_snowflake(warehouse, objects)  # refuses: no tenant
            apply_objects(objects, warehouse, role=job.config.snowflake.role)
            info = preflight_snowflake(warehouse, objects)
            self.endpoints.approve(job, info["INFO"])
        finally:
            _close(warehouse)

    def prepare(self, job: ImportJob, *, scratch: Path, progress: ProgressPrinter) -> Prepared:
        objects = self.objects(job)
        warehouse = self.connect(job)
        try:
            with progress.phase("checking the rows in Snowflake") as report:
                measured = measure(warehouse, target=job.target, contract=job.config.data_contract)
                report.advance(rows=measured.rows)
        except BaseException:
            _close(warehouse)
            raise

        def write_parts(folder: str, sink: BlobSink, report: Reporter) -> tuple[PartFile, ...]:
            parts = unload_parts(
                warehouse,
                objects=objects,
                target=job.target,
                folder=folder,
                sink=sink,
                max_file_size=job.config.unload.max_file_size,
                expected_rows=measured.rows,
            )
            report.advance(nbytes=sum(part.bytes for part in parts))
            return parts

        return Prepared(
            engine=ENGINE,
            version=measured.version,
            rows=measured.rows,
            schema=measured.schema,
            write_parts=write_parts,
            close=lambda: _close(warehouse),
            tags={FINGERPRINT_TAG: measured.version, "engine": ENGINE},
        )


def _close(warehouse: Warehouse) -> None:
    close = getattr(warehouse, "close", None)
    if close is not None:
        close()
