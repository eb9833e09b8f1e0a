"""STAND-IN for Snowflake's unload, for the local rehearsal only: fakesnow runs the query, this process
writes the Parquet parts to Azurite where Snowflake's COPY INTO @stage would, in the same layout.

It is the ``Warehouse`` the ``unload`` engine talks to, so the engine's code and SQL are exactly what runs
against Snowflake; only these answers are stood in:

- ``COPY INTO @<stage>/<folder>/part FROM (<query>) ...``: parsed with sqlglot (so the statement the
  engine built must be valid Snowflake SQL), the inner query runs in fakesnow, and its rows are written
  as ``part_0_0_<n>.snappy.parquet`` files (Snowflake's naming and default Parquet compression) of at most
  about ``MAX_FILE_SIZE`` bytes into ``<path_prefix>/<folder>/``; the answer is COPY's DETAILED_OUTPUT
  (FILE_NAME, FILE_SIZE, ROW_COUNT). On Snowflake the warehouse writes the files in parallel; here one
  process does, so timings of this stand-in measure only our side (check query, listing, manifest,
  registration) plus fakesnow, not Snowflake's unload.
- ``HASH_AGG(*)``: fakesnow (DuckDB) has no HASH_AGG; the stand-in hashes each row with DuckDB's
  ``HASH(...)`` and sums the high and low 32 bits separately (exact, order-independent), so the rehearsal's
  fingerprint changes with the data as Snowflake's would, but differs from Snowflake's value.
- ``DESC STORAGE INTEGRATION`` / ``SHOW STAGES`` / ``SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO()``: answered
  from ``StandinAccount`` (by default: the integration and stage exactly as declared, one approved
  endpoint), so the rehearsal and the tests can also play a missing integration or a non-Business
  Critical account.

Never imported by the production path (``engines.engine_for`` picks ``engines.unload`` with the connector).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import snowflake.connector
from snowflake.connector import DictCursor
from snowflake.connector.errors import ProgrammingError

from data_bootstrap.azure.blob_sink import BlobSink
from data_bootstrap.azure.private_endpoints import storage_account_id
from data_bootstrap.engines import ImportJob, StorageAccount
from data_bootstrap.engines.unload import ConnectorWarehouse, UnloadEngine, unload_objects
from data_bootstrap.errors import BootstrapError
from data_bootstrap.snowflake.integration import DOES_NOT_EXIST, SnowflakeSqlError, UnloadObjects
from data_bootstrap.snowflake.unload_sql import ResultColumn, ident
from stacks.config import EnvironmentConfig

STANDIN_LABEL = "unload STAND-IN: fakesnow runs the query and this process writes the parts (Snowflake does on Azure)"


def standin_hash(columns: Sequence[ResultColumn]) -> str:
    """HASH_AGG(*) as fakesnow (DuckDB) can run it: a multiset hash of the rows (see the module docstring)."""
    row = f"HASH({', '.join(ident(c.name) for c in columns)})"
    return f"SUM(({row} >> 32)::BIGINT) || ':' || SUM(({row} & 4294967295)::BIGINT)"


class FakesnowWarehouse(ConnectorWarehouse):
    """The connector's session on fakesnow with ``standin_hash`` for HASH_AGG: the CLI tests' runtime
    uses it for the warehouse fingerprint."""

    def hash_expression(self, columns: Sequence[ResultColumn]) -> str:
        return standin_hash(columns)


@dataclass(kw_only=True)
class StandinAccount:
    """What the stand-in answers for the account-level objects; None plays 'missing'."""

    integration: dict[str, str] | None
    stage: dict[str, Any] | None
    privatelink: list[dict[str, str]] | None  # None: the account has no outbound private connectivity

    @classmethod
    def as_declared(cls, objects: UnloadObjects, *, storage_account_id: str) -> StandinAccount:
        return cls(
            integration=dict(objects.desired_integration()),
            stage={
                "NAME": objects.stage.rsplit(".", 1)[1],
                "URL": objects.location.url,
                "STORAGE_INTEGRATION": objects.integration,
            },
            privatelink=[
                {
                    "provider_resource_id": storage_account_id,
                    "subresource": "blob",
                    "snowflake_resource_id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                    "snowflake-standin/providers/Microsoft.Network/privateEndpoints/standin-blob",
                    "host": f"{objects.location.storage_account}.blob.core.windows.net",
                    "endpoint_state": "CREATED",
                    "status": "Approved",
                }
            ],
        )


@dataclass(kw_only=True)
class StandinWarehouse:
    """A fakesnow session plus the Azurite container the stage points at."""

    connection: Any  # snowflake.connector connection to fakesnow
    objects: UnloadObjects
    sink: BlobSink
    account: StandinAccount
    scratch: Path
    statements: list[str] = field(default_factory=list)  # every statement the engine sent, in order

    def close(self) -> None:
        self.connection.close()

    def describe(self, sql: str) -> list[ResultColumn]:
        self.statements.append(f"DESCRIBE {sql}")
        try:
            return [ResultColumn.from_metadata(m) for m in self.connection.cursor().describe(sql)]
        except ProgrammingError as error:
            raise SnowflakeSqlError(error.errno or 0, error.msg or str(error)) from None

    def hash_expression(self, columns: Sequence[ResultColumn]) -> str:
        return standin_hash(columns)

    def rows(self, sql: str) -> list[dict[str, Any]]:
        self.statements.append(sql)
        upper = sql.lstrip().upper()
        if upper.startswith("COPY INTO"):
            return self._unload(sql)
        if upper.startswith("DESC STORAGE INTEGRATION"):
            if self.account.integration is None:
                raise SnowflakeSqlError(
                    DOES_NOT_EXIST, f"Integration '{self.objects.integration}' does not exist or not authorized."
                )
            return [{"PROPERTY": k, "PROPERTY_VALUE": v} for k, v in self.account.integration.items()]
        if upper.startswith("SHOW STAGES"):
            return [] if self.account.stage is None else [dict(self.account.stage)]
        if "SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO" in upper:
            if self.account.privatelink is None:
                raise SnowflakeSqlError(3001, "Outbound private connectivity is not enabled for this account.")
            return [{"INFO": self.account.privatelink}]
        try:
            return list(self.connection.cursor(DictCursor).execute(sql).fetchall())
        except ProgrammingError as error:
            raise SnowflakeSqlError(error.errno or 0, error.msg or str(error)) from None

    def _unload(self, sql: str) -> list[dict[str, Any]]:
        import sqlglot
        from sqlglot import exp

        statement = sqlglot.parse_one(sql, read="snowflake")
        assert isinstance(statement, exp.Copy), sql
        location = str(statement.this.this)  # @DB.SCHEMA.STAGE/<folder>/part
        stage, _, path = location.removeprefix("@").partition("/")
        if stage != self.objects.stage:
            raise SnowflakeSqlError(DOES_NOT_EXIST, f"Stage '{stage}' does not exist or not authorized.")
        folder, _, prefix = path.rpartition("/")
        params = {str(p.this.this).upper(): p for p in statement.args["params"]}
        max_file_size = int(params["MAX_FILE_SIZE"].expression.this)
        query = statement.args["files"][0].this.sql(dialect="snowflake")
        blob_folder = f"{self.objects.location.path_prefix}/{folder}"
        return self._write(query, blob_folder=blob_folder, folder=folder, prefix=prefix, max_file_size=max_file_size)

    def _write(
        self, query: str, *, blob_folder: str, folder: str, prefix: str, max_file_size: int
    ) -> list[dict[str, Any]]:
        cursor = self.connection.cursor()
        cursor.execute(query)
        chunk = max(1024, min(65_536, max_file_size // 64))  # row groups small enough to roll near the bound
        output: list[dict[str, Any]] = []
        writer: pq.ParquetWriter | None = None
        with tempfile.TemporaryDirectory(prefix="unload-standin-", dir=self.scratch) as scratch:
            local: Path | None = None

            def close() -> None:
                if writer is not None and local is not None:
                    writer.close()
                    self.sink.upload_file(local, f"{blob_folder}/{local.name}", on_bytes=lambda n: None)
                    output[-1]["FILE_SIZE"] = local.stat().st_size

            for table in cursor.fetch_arrow_batches():
                for batch in table.to_batches(max_chunksize=chunk):
                    if writer is None or (local is not None and local.stat().st_size >= max_file_size):
                        close()
                        local = Path(scratch) / f"{prefix}_0_0_{len(output)}.snappy.parquet"
                        writer = pq.ParquetWriter(local, batch.schema, compression="snappy")
                        output.append({"FILE_NAME": f"{folder}/{local.name}", "FILE_SIZE": 0, "ROW_COUNT": 0})
                    writer.write_batch(batch)
                    output[-1]["ROW_COUNT"] += batch.num_rows
            close()
        return output


def standin_connection(connect_args: dict[str, Any], *, database: str, schema: str) -> Any:
    """A session on fakesnow (any user and password: it is an emulator)."""
    return snowflake.connector.connect(
        user="standin",
        password="standin",  # noqa: S106 (the emulator ignores it)
        database=database,
        schema=schema,
        **connect_args,
    )


class StandinEndpoints:
    """The stand-in's private endpoint: approved exactly when ``StandinAccount`` says so (no ARM here)."""

    def plan(self, job: ImportJob, info: Any) -> str:
        return f"private endpoint connection (stand-in): {info[0]['status'].lower() if info else 'missing'}"

    def approve(self, job: ImportJob, info: Any) -> str:
        if not info or info[0]["status"] != "Approved":
            raise BootstrapError("Snowflake's private endpoint (stand-in) is not approved", "approve it (stand-in)")
        return self.plan(job, info)


STANDIN_TENANT = "00000000-0000-0000-0000-00000000a2e1"  # Azurite has no tenant; the integration's DDL needs one


def standin_storage(sink: BlobSink) -> StorageAccount:
    def no_arm() -> Any:
        raise BootstrapError("the rehearsal has no ARM", "the stand-in answers the private endpoint itself")

    resource_id = storage_account_id(subscription_id="rehearsal", resource_group="azurite", account=sink.account_name)
    return StorageAccount(resource_id=resource_id, tenant_id=STANDIN_TENANT, arm=no_arm)


def standin_warehouses(
    connect_args: dict[str, Any],
    *,
    config: EnvironmentConfig,
    sink: BlobSink,
    storage: StorageAccount,
    scratch: Path,
    account: StandinAccount | None = None,
) -> Callable[[str], StandinWarehouse]:
    """``ImportJob.warehouse`` for the rehearsal: every session is the stand-in on fakesnow + Azurite."""
    objects = unload_objects(
        config, storage_account=sink.account_name, container=sink.container_name, tenant_id=storage.tenant_id
    )
    declared = account or StandinAccount.as_declared(objects, storage_account_id=storage.resource_id)

    def open_session(name: str) -> StandinWarehouse:
        s = config.snowflake
        return StandinWarehouse(
            connection=standin_connection(connect_args, database=s.database, schema=s.schema),
            objects=objects,
            sink=sink,
            account=declared,
            scratch=scratch,
        )

    return open_session


def standin_engine() -> UnloadEngine:
    """The unload engine whose private endpoint is the stand-in's (its warehouse comes with the job)."""
    return UnloadEngine(endpoints=StandinEndpoints())
