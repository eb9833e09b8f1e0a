"""Every SQL statement the ``unload`` engine sends to Snowflake, built in one place.

Identifiers come from the validated config (``SNOWFLAKE_IDENTIFIER``: unquoted, so upper-cased by
Snowflake) and are emitted as written; result column names come from Snowflake and are always
double-quoted (a quote inside doubled). String values are single-quoted with ``'`` doubled and ``\\``
escaped (Snowflake string literals treat backslash as an escape:
docs.snowflake.com/en/sql-reference/data-types-text#escape-sequences-in-single-quoted-string-constants).
``tests/data_bootstrap/test_unload_sql.py`` parses every statement with sqlglot's Snowflake dialect.

The checks (``WarehouseCheck``) run where the data is: one aggregate query over ``(<query>)`` counts the
rows, fingerprints them with ``HASH_AGG(*)`` and measures each ``[data_contract]`` rule, so nothing is
written anywhere before the contract holds. HASH_AGG "returns an aggregate signed 64-bit hash value over
the (unordered) set of input rows", the same whatever the row order, and is "not a cryptographic hash
function" (docs.snowflake.com/en/sql-reference/functions/hash_agg).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stacks.config import DataContractSection

# the connector's type codes (snowflake-connector-python 4.8.1 snowflake/connector/constants.py FIELD_TYPES)
_TYPE_NAMES = {
    0: "NUMBER", 1: "FLOAT", 2: "TEXT", 3: "DATE", 4: "TIMESTAMP_LTZ", 5: "VARIANT", 6: "TIMESTAMP_LTZ",
    7: "TIMESTAMP_TZ", 8: "TIMESTAMP_NTZ", 9: "OBJECT", 10: "ARRAY", 11: "BINARY", 12: "TIME", 13: "BOOLEAN",
}  # fmt: skip
HASH_AGG = "HASH_AGG(*)"


def ident(name: str) -> str:
    """A quoted identifier: exactly ``name``, whatever its case or characters."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def nested(query: str) -> str:
    """The query ready to nest in ``FROM ( ... )``: its own lines kept (a ``--`` comment ends at its
    newline, so collapsing whitespace would swallow the closing parenthesis) and a trailing ``;`` cut,
    found by sqlglot's tokenizer (not inside a string or a comment)."""
    import sqlglot
    from sqlglot import TokenType

    tokens = sqlglot.tokenize(query, read="snowflake")
    if tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        query = query[: tokens[-1].start]
    return f"\n{query.strip()}\n"


@dataclass(frozen=True, kw_only=True)
class ResultColumn:
    """One column of the query's result as Snowflake describes it (``cursor.describe``: nothing runs)."""

    name: str
    type_code: int
    precision: int | None = None
    scale: int | None = None

    @classmethod
    def from_metadata(cls, metadata: Any) -> ResultColumn:
        return cls(
            name=str(metadata.name),
            type_code=int(metadata.type_code),
            precision=metadata.precision,
            scale=metadata.scale,
        )

    @property
    def type_name(self) -> str:
        base = _TYPE_NAMES.get(self.type_code, f"TYPE{self.type_code}")
        if base == "NUMBER":
            return f"NUMBER({self.precision if self.precision is not None else 38},{self.scale or 0})"
        return base

    def kinds(self) -> set[str]:
        """The contract kinds this type satisfies by type alone (as ``contract._kinds`` does for Arrow)."""
        base = _TYPE_NAMES.get(self.type_code, "")
        if base == "NUMBER":
            return {"integer", "number"} if not self.scale else {"number"}
        return {
            "FLOAT": {"number"},
            "TEXT": {"text"},
            "BOOLEAN": {"boolean"},
            "DATE": {"date"},
            "TIMESTAMP_LTZ": {"timestamp"},
            "TIMESTAMP_TZ": {"timestamp"},
            "TIMESTAMP_NTZ": {"timestamp"},
        }.get(base, set())


def schema_of(columns: Sequence[ResultColumn]) -> tuple[tuple[str, str], ...]:
    return tuple((column.name, column.type_name) for column in columns)


@dataclass(frozen=True, kw_only=True)
class _Measure:
    key: str  # the result column alias
    column: str  # as the contract names it
    what: str  # nulls | fractional | outside | outside_sample | min | max


@dataclass(frozen=True, kw_only=True)
class WarehouseCheck:
    """The contract and the fingerprint as one aggregate query over the result (``sql``), and what its
    single row means (``problems``). ``schema_problems`` are known from ``describe`` alone."""

    query: str
    columns: tuple[ResultColumn, ...]
    contract: DataContractSection
    hash_expression: str = HASH_AGG  # the rehearsal stand-in swaps in what fakesnow can run
    schema_problems: list[str] = field(init=False, default_factory=list)
    _measures: list[_Measure] = field(init=False, default_factory=list)
    _selects: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        present = {column.name.lower(): column for column in self.columns}
        not_null = {name.lower() for name in self.contract.not_null}
        allowed = {
            name.lower(): sorted({v.strip().lower() for v in values.split(",")})
            for name, values in self.contract.allowed_values.items()
        }
        ranges = {name.lower(): text for name, text in self.contract.ranges.items()}
        for declared, kind in self.contract.columns.items():
            column = present.get(declared.lower())
            if column is None:
                found = ", ".join(sorted(present)) or "none"
                self.schema_problems.append(f"column {declared!r} is missing (found: {found})")
                continue
            possible = column.kinds()
            by_value = kind == "integer" and "number" in possible
            if kind not in possible and not by_value:
                self.schema_problems.append(f"column {declared!r} is {column.type_name}, expected {kind}")
                continue
            self._add_rules(declared, column, kind=kind, not_null=declared.lower() in not_null)
            if declared.lower() in allowed and kind == "text":
                self._add_allowed(declared, column, allowed[declared.lower()])
            if declared.lower() in ranges and kind in ("number", "integer"):
                self._add_range(declared, column)

    def _add(self, expression: str, column: str, what: str) -> None:
        key = f"C{len(self._measures)}"
        self._measures.append(_Measure(key=key, column=column, what=what))
        self._selects.append(f"{expression} AS {key}")

    def _add_rules(self, declared: str, column: ResultColumn, *, kind: str, not_null: bool) -> None:
        c = ident(column.name)
        is_float = column.type_name == "FLOAT"
        if not_null:
            nan = f" OR {c} = 'NaN'::FLOAT" if is_float else ""  # the stream engine counts NaN as NULL too
            self._add(f"COUNT_IF({c} IS NULL{nan})", declared, "nulls")
        if kind == "integer" and "integer" not in column.kinds():
            self._add(f"COUNT_IF({c} <> FLOOR({c}))", declared, "fractional")

    def _add_allowed(self, declared: str, column: ResultColumn, values: list[str]) -> None:
        c = ident(column.name)
        outside = f"LOWER({c}) NOT IN ({', '.join(literal(v) for v in values)})"
        self._add(f"COUNT_IF({outside})", declared, "outside")
        self._add(f"MIN(CASE WHEN {outside} THEN {c} END)", declared, "outside_sample")

    def _add_range(self, declared: str, column: ResultColumn) -> None:
        c = ident(column.name)
        self._add(f"MIN({c})", declared, "min")
        self._add(f"MAX({c})", declared, "max")

    @property
    def sql(self) -> str:
        head = fingerprint_sql(self.query, self.hash_expression).split(" FROM (", 1)[0]
        return f"{', '.join([head, *self._selects])} FROM ({nested(self.query)}) AS q"

    def read(self, row: Sequence[Any]) -> tuple[int, str, list[str]]:
        """(rows, the hash as text, contract problems) from the query's single result row."""
        rows, row_hash, values = (
            int(row[0]),
            str(row[1]),
            dict(zip((m.key for m in self._measures), row[2:], strict=True)),
        )
        problems: list[str] = []
        if rows < self.contract.min_rows:
            problems.append(f"{rows:,} rows, expected at least {self.contract.min_rows:,}")
        bounds = {name.lower(): text for name, text in self.contract.ranges.items()}
        for measure in self._measures:
            problems += _problem(measure, values, bounds)
        return rows, row_hash, problems


def _problem(measure: _Measure, values: Mapping[str, Any], bounds: Mapping[str, str]) -> list[str]:
    value, name = values[measure.key], measure.column
    if measure.what == "nulls" and value:
        return [f"column {name!r} has {int(value):,} NULL/NaN value(s), expected none"]
    if measure.what == "fractional" and value:
        return [f"column {name!r} has {int(value):,} non-whole value(s), expected integer"]
    if measure.what == "outside" and value:
        sample = values[f"C{int(measure.key[1:]) + 1}"]
        return [f"column {name!r} has {int(value):,} value(s) outside the allowed values, e.g. {str(sample)[:40]!r}"]
    if measure.what in ("min", "max") and value is not None:
        low_text, high_text = (part.strip() for part in bounds[name.lower()].split(".."))
        number = float(value)
        if measure.what == "min" and low_text and number < float(low_text):
            return [f"column {name!r} has minimum {number:g}, expected >= {float(low_text):g}"]
        if measure.what == "max" and high_text and number > float(high_text):
            return [f"column {name!r} has maximum {number:g}, expected <= {float(high_text):g}"]
    return []


def fingerprint_sql(query: str, hash_expression: str = HASH_AGG) -> str:
    """Rows and HASH_AGG only: the fingerprint without the contract (the stream engine's tag)."""
    return f"SELECT COUNT(*) AS ROW_COUNT, {hash_expression} AS ROW_HASH FROM ({nested(query)}) AS q"


def copy_into_sql(*, stage: str, folder: str, query: str, max_file_size: int) -> str:
    """Unloads the query's result as Parquet parts into ``@<stage>/<folder>/part_*.parquet``.

    COPY INTO <location> (docs.snowflake.com/en/sql-reference/sql/copy-into-location): ``FROM ( <query> )``
    unloads a query's result; ``HEADER = TRUE`` keeps the column names in the Parquet files (otherwise they
    are ``_COL_0`` ...); ``MAX_FILE_SIZE`` bounds each file (default 16 MB, up to 5 GB for Azure); the
    number of files also depends on "the total amount of data and number of nodes available for
    parallel processing"; ``DETAILED_OUTPUT = TRUE`` returns one row per file: FILE_NAME, FILE_SIZE,
    ROW_COUNT."""
    return (
        f"COPY INTO @{stage}/{folder}/part FROM ({nested(query)}) "
        f"FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE MAX_FILE_SIZE = {int(max_file_size)} DETAILED_OUTPUT = TRUE"
    )


PRIVATELINK_ENDPOINTS_SQL = "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO() AS INFO"


def provision_endpoint_sql(*, storage_account_id: str, blob_host: str) -> str:
    """The one-time ACCOUNTADMIN call that creates Snowflake's private endpoint to our storage account
    (docs.snowflake.com/en/sql-reference/functions/system_provision_privatelink_endpoint: Azure takes
    '<provider_resource_id>', '<host_name>', '<subresource>'; for an external stage on Blob storage the
    subresource is 'blob': docs.snowflake.com/en/user-guide/data-load-azure-private)."""
    return f"SELECT SYSTEM$PROVISION_PRIVATELINK_ENDPOINT({literal(storage_account_id)}, {literal(blob_host)}, 'blob')"
