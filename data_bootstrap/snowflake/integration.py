"""The Snowflake side of the ``unload`` engine, declared: the storage integration and the external stage.

``plan`` reads both (``DESC STORAGE INTEGRATION``, ``SHOW STAGES``) and prints the DDL that would make
them match; ``apply`` runs only that DDL (nothing when they match), so it is idempotent.

- Storage integration (docs.snowflake.com/en/sql-reference/sql/create-storage-integration): Azure takes
  ``STORAGE_PROVIDER = 'AZURE'`` and ``AZURE_TENANT_ID``; ``STORAGE_ALLOWED_LOCATIONS`` limits every stage
  that uses it ("The URL in the stage definition must align with the storage location specified for the
  STORAGE_ALLOWED_LOCATIONS parameter"); we allow the raw container's asset prefix only.
  ``USE_PRIVATELINK_ENDPOINT = TRUE`` sends its traffic through Snowflake's private endpoint, and "a stage
  that references a storage integration that specifies USE_PRIVATELINK_ENDPOINT = TRUE inherits the
  private endpoint configuration" (docs.snowflake.com/en/user-guide/data-load-azure-private).
- Privileges: "Only account administrators (users with the ACCOUNTADMIN role) or a role with the global
  CREATE INTEGRATION privilege can execute this SQL command" (create-storage-integration, Access control
  requirements); ALTER needs OWNERSHIP of the integration; CREATE STAGE needs CREATE STAGE on the schema
  and USAGE on the integration (docs.snowflake.com/en/sql-reference/sql/create-stage). Our import role
  (``AML_READER``) holds none of the account-level ones, so creating the integration is a one-time
  ACCOUNTADMIN step: apply says so in one line and prints the exact DDL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from data_bootstrap.errors import BootstrapError
from data_bootstrap.snowflake.unload_sql import literal

# Snowflake's "Insufficient privileges to operate on ..." (SQL compilation error 003001, SQLSTATE 42501)
INSUFFICIENT_PRIVILEGES = 3001
DOES_NOT_EXIST = 2003  # "... does not exist or not authorized" (SQLSTATE 02000)


class SqlRunner(Protocol):
    """Runs one statement and returns its rows as dicts keyed by upper-case column name."""

    def rows(self, sql: str) -> list[dict[str, Any]]: ...


class SnowflakeSqlError(Exception):
    def __init__(self, errno: int, message: str) -> None:
        self.errno, self.message = errno, message
        super().__init__(f"{errno}: {message}")


@dataclass(frozen=True, kw_only=True)
class UnloadLocation:
    """Where Snowflake may write: one prefix of the raw container."""

    storage_account: str
    container: str
    path_prefix: str

    @property
    def url(self) -> str:
        # azure://<account>.blob.core.windows.net/<container>/<path>/ (copy-into-location, externalLocation for Azure)
        return f"azure://{self.storage_account}.blob.core.windows.net/{self.container}/{self.path_prefix}/"


@dataclass(frozen=True, kw_only=True)
class UnloadObjects:
    integration: str
    stage: str  # fully qualified: DATABASE.SCHEMA.STAGE
    tenant_id: str
    location: UnloadLocation

    def create_integration_sql(self) -> str:
        return (
            f"CREATE STORAGE INTEGRATION {self.integration} TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'AZURE' "
            f"ENABLED = TRUE AZURE_TENANT_ID = {literal(self.tenant_id)} "
            f"STORAGE_ALLOWED_LOCATIONS = ({literal(self.location.url)}) USE_PRIVATELINK_ENDPOINT = TRUE "
            "COMMENT = 'data_bootstrap unload engine: raw container asset prefix only'"
        )

    def desired_integration(self) -> dict[str, str]:
        """DESC STORAGE INTEGRATION property -> value we require."""
        return {
            "ENABLED": "true",
            "STORAGE_PROVIDER": "AZURE",
            "AZURE_TENANT_ID": self.tenant_id,
            "STORAGE_ALLOWED_LOCATIONS": self.location.url,
            "STORAGE_BLOCKED_LOCATIONS": "",
            "USE_PRIVATELINK_ENDPOINT": "true",
        }

    def create_stage_sql(self) -> str:
        return (
            f"CREATE STAGE {self.stage} URL = {literal(self.location.url)} STORAGE_INTEGRATION = {self.integration} "
            "FILE_FORMAT = (TYPE = PARQUET)"
        )


_SETTERS = {
    "ENABLED": lambda v: f"ENABLED = {v.upper()}",
    "STORAGE_PROVIDER": None,  # fixed at creation: a different provider is another integration
    "AZURE_TENANT_ID": lambda v: f"AZURE_TENANT_ID = {literal(v)}",
    "STORAGE_ALLOWED_LOCATIONS": lambda v: f"STORAGE_ALLOWED_LOCATIONS = ({literal(v)})",
    "STORAGE_BLOCKED_LOCATIONS": None,  # UNSET below: nothing blocked inside our own prefix
    "USE_PRIVATELINK_ENDPOINT": lambda v: f"USE_PRIVATELINK_ENDPOINT = {v.upper()}",
}


def _split(name: str) -> tuple[str, str, str]:
    database, schema, stage = name.split(".")
    return database, schema, stage


@dataclass(frozen=True, kw_only=True)
class Observed:
    integration: dict[str, str] | None  # DESC STORAGE INTEGRATION, property -> value; None: missing
    stage: dict[str, Any] | None  # its SHOW STAGES row; None: missing


def observe(objects: UnloadObjects, runner: SqlRunner) -> Observed:
    try:
        described = runner.rows(f"DESC STORAGE INTEGRATION {objects.integration}")
        integration: dict[str, str] | None = {
            str(row["PROPERTY"]).upper(): str(row.get("PROPERTY_VALUE") or "") for row in described
        }
    except SnowflakeSqlError as error:
        if error.errno != DOES_NOT_EXIST:
            raise
        integration = None
    database, schema, stage = _split(objects.stage)
    stages = runner.rows(f"SHOW STAGES LIKE {literal(stage)} IN SCHEMA {database}.{schema}")
    found = next((row for row in stages if str(row.get("NAME", "")).upper() == stage.upper()), None)
    return Observed(integration=integration, stage=found)


def _locations(text: str) -> list[str]:
    """DESC shows a location list as comma-separated text (sometimes bracketed and quoted)."""
    return sorted(p.strip().strip("'\"") for p in text.strip("[]").split(",") if p.strip().strip("'\""))


def integration_differences(objects: UnloadObjects, observed: dict[str, str]) -> list[str]:
    differences = []
    for key, wanted in objects.desired_integration().items():
        have = observed.get(key)
        same = (
            _locations(have or "") == _locations(wanted)
            if key.endswith("_LOCATIONS")
            else (have or "").lower() == wanted.lower()
        )
        if not same:
            differences.append(f"{key}: {have if have is not None else '(not shown)'!s} -> {wanted or '(none)'}")
    return differences


def statements(objects: UnloadObjects, observed: Observed) -> tuple[list[str], list[str]]:
    """(DDL that makes Snowflake match, one line per difference); both empty when it matches."""
    ddl: list[str] = []
    notes: list[str] = []
    if observed.integration is None:
        ddl.append(objects.create_integration_sql())
        notes.append(f"storage integration {objects.integration}: create")
    else:
        differences = integration_differences(objects, observed.integration)
        if any(d.startswith("STORAGE_PROVIDER:") for d in differences):
            raise BootstrapError(
                f"storage integration {objects.integration} exists for another cloud provider",
                "set [unload].storage_integration to a new name (an integration's provider cannot change)",
            )
        setters = [
            setter(objects.desired_integration()[d.split(":")[0]])
            for d in differences
            if (setter := _SETTERS[d.split(":")[0]]) is not None
        ]
        if setters:
            ddl.append(f"ALTER STORAGE INTEGRATION {objects.integration} SET {' '.join(setters)}")
        if any(d.startswith("STORAGE_BLOCKED_LOCATIONS:") for d in differences):
            ddl.append(f"ALTER STORAGE INTEGRATION {objects.integration} UNSET STORAGE_BLOCKED_LOCATIONS")
        notes += [f"storage integration {objects.integration}: update {d}" for d in differences]
    if observed.stage is None:
        ddl.append(objects.create_stage_sql())
        notes.append(f"stage {objects.stage}: create")
    else:
        url, integration = str(observed.stage.get("URL", "")), str(observed.stage.get("STORAGE_INTEGRATION", ""))
        if _locations(url) != [objects.location.url] or integration.upper() != objects.integration.upper():
            ddl.append(
                f"ALTER STAGE {objects.stage} SET URL = {literal(objects.location.url)} "
                f"STORAGE_INTEGRATION = {objects.integration}"
            )
            notes.append(
                f"stage {objects.stage}: update URL {url} -> {objects.location.url}, integration {integration}"
            )
    return ddl, notes


def admin_step_error(objects: UnloadObjects, ddl: Sequence[str], role: str) -> BootstrapError:
    return BootstrapError(
        f"role {role} may not create or change storage integration {objects.integration}: "
        "creating a storage integration is a one-time ACCOUNTADMIN step",
        "as ACCOUNTADMIN run: "
        + "; ".join(ddl)
        + f"; GRANT USAGE ON INTEGRATION {objects.integration} TO ROLE {role};",
    )


def apply_objects(objects: UnloadObjects, runner: SqlRunner, *, role: str) -> list[str]:
    """Runs the DDL that differs; returns the notes (empty: unchanged). Integration DDL the role may not
    run becomes one line naming the ACCOUNTADMIN step and the exact statements."""
    ddl, notes = statements(objects, observe(objects, runner))
    integration_ddl = [d for d in ddl if " STORAGE INTEGRATION " in d]
    for statement in ddl:
        try:
            runner.rows(statement)
        except SnowflakeSqlError as error:
            if error.errno == INSUFFICIENT_PRIVILEGES and statement in integration_ddl:
                raise admin_step_error(objects, integration_ddl, role) from None
            raise BootstrapError(
                f"Snowflake refused {statement.split(' (')[0][:60]}... ({error.message})",
                f"grant role {role} CREATE STAGE on the schema and USAGE on integration {objects.integration}",
            ) from None
    return notes
