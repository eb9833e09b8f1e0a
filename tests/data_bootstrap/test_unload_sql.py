"""The SQL the unload engine sends, parsed with sqlglot's Snowflake dialect (issue 17 item 4), and the
storage integration / stage being declared idempotently (item 2)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from data_bootstrap.errors import BootstrapError
from data_bootstrap.snowflake.integration import (
    INSUFFICIENT_PRIVILEGES,
    Observed,
    SnowflakeSqlError,
    UnloadLocation,
    UnloadObjects,
    apply_objects,
    statements,
)
from data_bootstrap.snowflake.unload_sql import (
    HASH_AGG,
    ResultColumn,
    WarehouseCheck,
    copy_into_sql,
    ident,
    literal,
    provision_endpoint_sql,
)
from stacks.config import DataContractSection
from stacks.readonly_sql import read_only_problem

QUERY = "SELECT * FROM GLOBOREALTY.REAL_ESTATE.RAW WHERE MARKET <> 'a;b' -- trailing comment\n;"
OBJECTS = UnloadObjects(
    integration="AML_RAW_UNLOAD",
    stage="GLOBOREALTY.REAL_ESTATE.AML_RAW_UNLOAD_STAGE",
    tenant_id="00000000-0000-0000-0000-000000000002",
    location=UnloadLocation(storage_account="stgloborealtymldevx3f", container="rawdata", path_prefix="raw_house_data"),
)
PREFIX_URL = "azure://stgloborealtymldevx3f.blob.core.windows.net/rawdata/raw_house_data/"
COLUMNS = (
    ResultColumn(name="MARKET", type_code=2),
    ResultColumn(name="LOCATION", type_code=2),
    ResultColumn(name="PROPERTY_TYPE", type_code=2),
    ResultColumn(name="SQUARE_FEET", type_code=0, precision=38, scale=0),
    ResultColumn(name="BEDROOMS", type_code=1),
    ResultColumn(name="YEAR_BUILT", type_code=0, precision=38, scale=0),
    ResultColumn(name="PRICE", type_code=0, precision=12, scale=2),
)


def parse(sql: str) -> exp.Expr:
    statements = sqlglot.parse(sql, read="snowflake")
    assert len(statements) == 1 and statements[0] is not None, sql
    return statements[0]


def query_tree() -> exp.Expr:
    return parse(QUERY)


def test_copy_into_unloads_the_configured_query_as_parquet_into_the_run_folder() -> None:
    sql = copy_into_sql(
        stage=OBJECTS.stage,
        folder="0123456789abcdef/run-20261129T210000-0a1b2c3d",
        query=QUERY,
        max_file_size=256_000_000,
    )
    copy = parse(sql)
    assert isinstance(copy, exp.Copy)
    assert (
        copy.this.this.name
        == "@GLOBOREALTY.REAL_ESTATE.AML_RAW_UNLOAD_STAGE/0123456789abcdef/run-20261129T210000-0a1b2c3d/part"
    )
    (source,) = copy.args["files"]
    assert isinstance(source, exp.Subquery) and source.this == query_tree()  # the query itself, comment and ; gone
    params = {str(p.this.this).upper(): p for p in copy.args["params"]}
    assert set(params) == {"FILE_FORMAT", "HEADER", "MAX_FILE_SIZE", "DETAILED_OUTPUT"}
    (file_type,) = params["FILE_FORMAT"].expressions
    assert (file_type.name.upper(), file_type.text("value").upper()) == ("TYPE", "PARQUET")
    assert params["HEADER"].expression == exp.true()  # column names, not _COL_0, in the Parquet files
    assert params["DETAILED_OUTPUT"].expression == exp.true()  # one row per file: name, size, rows
    assert params["MAX_FILE_SIZE"].expression.to_py() == 256_000_000


def test_the_check_query_is_one_read_only_aggregate_over_the_query() -> None:
    check = WarehouseCheck(query=QUERY, columns=COLUMNS, contract=DataContractSection())
    select = parse(check.sql)
    assert read_only_problem(check.sql) is None
    assert isinstance(select, exp.Select) and isinstance(select.args["from_"].this, exp.Subquery)
    assert select.args["from_"].this.this == query_tree()
    aliases = [e.alias for e in select.expressions]
    assert aliases[:2] == ["ROW_COUNT", "ROW_HASH"]
    assert select.expressions[1].this.sql(dialect="snowflake") == HASH_AGG
    # every rule of the default contract became a measure: 2 not-null, 1 non-whole (BEDROOMS is FLOAT),
    # allowed values (count + sample), 4 ranges (min + max)
    assert len(aliases) == 2 + 2 + 1 + 2 + 8
    assert check.schema_problems == []


def test_schema_problems_come_from_the_described_types_before_any_query_runs() -> None:
    columns = (*(c for c in COLUMNS if c.name != "LOCATION"), ResultColumn(name="X", type_code=2))
    retyped = tuple(ResultColumn(name="PRICE", type_code=2) if c.name == "PRICE" else c for c in columns)
    check = WarehouseCheck(query=QUERY, columns=retyped, contract=DataContractSection())
    assert check.schema_problems == [
        "column 'location' is missing (found: bedrooms, market, price, property_type, square_feet, x, year_built)",
        "column 'price' is TEXT, expected number",
    ]


def test_names_and_values_from_outside_are_quoted_not_pasted() -> None:
    """A column named with a quote and an allowed value with a quote parse back to exactly themselves."""
    column = 'MAR"KET'
    contract = DataContractSection(
        columns={column: "text"}, not_null=(column,), allowed_values={column: "o'brien,x\\'"}, ranges={}
    )
    check = WarehouseCheck(query=QUERY, columns=(ResultColumn(name=column, type_code=2),), contract=contract)
    tree = parse(check.sql)
    assert {c.name for e in tree.expressions for c in e.find_all(exp.Column)} == {column}
    assert {s.this for s in tree.find_all(exp.Literal) if s.is_string} >= {"o'brien", "x\\'"}
    assert parse(f"SELECT {ident(column)}, {literal(chr(39) + chr(92))}").sql(dialect="snowflake").count("SELECT") == 1


def test_the_check_reads_its_row_into_the_same_phrases_as_the_stream_engine() -> None:
    check = WarehouseCheck(query=QUERY, columns=COLUMNS, contract=DataContractSection(min_rows=10))
    keys = [e.alias for e in parse(check.sql).expressions]
    values: dict[str, Any] = dict.fromkeys(keys, 0)
    measures = dict(zip(keys[2:], check._measures, strict=True))
    for key, measure in measures.items():
        values[key] = {"nulls": 0, "fractional": 0, "outside": 0, "outside_sample": None, "min": 1700, "max": 2000}[
            measure.what
        ]
    for key, measure in measures.items():
        if measure.column == "price" and measure.what == "min":
            values[key] = -5
        if measure.column == "market" and measure.what == "nulls":
            values[key] = 3
        if measure.column == "market" and measure.what == "outside":
            values[key], values[f"C{int(key[1:]) + 1}"] = 2, "rural"
    values["ROW_COUNT"], values["ROW_HASH"] = 4, -123
    rows, row_hash, problems = check.read(list(values.values()))
    assert (rows, row_hash) == (4, "-123")
    assert problems == [
        "4 rows, expected at least 10",
        "column 'market' has 3 NULL/NaN value(s), expected none",
        "column 'market' has 2 value(s) outside the allowed values, e.g. 'rural'",
        "column 'price' has minimum -5, expected >= 0",
    ]


def test_provisioning_sql_names_the_storage_account_and_blob() -> None:
    account_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st"
    call = parse(provision_endpoint_sql(storage_account_id=account_id, blob_host="st.blob.core.windows.net"))
    (function,) = call.find_all(exp.Anonymous)
    assert function.name.upper() == "SYSTEM$PROVISION_PRIVATELINK_ENDPOINT"
    assert [a.this for a in function.expressions] == [account_id, "st.blob.core.windows.net", "blob"]


def test_create_storage_integration_allows_only_the_asset_prefix_privately() -> None:
    create = parse(OBJECTS.create_integration_sql())
    assert isinstance(create, exp.Create) and create.args["kind"] == "STORAGE INTEGRATION"
    properties = {p.name.upper(): p.args["value"] for p in create.args["properties"].expressions if "value" in p.args}
    assert properties["STORAGE_PROVIDER"].this == "AZURE"
    assert properties["AZURE_TENANT_ID"].this == OBJECTS.tenant_id
    assert properties["USE_PRIVATELINK_ENDPOINT"] == exp.true()
    allowed = properties["STORAGE_ALLOWED_LOCATIONS"]  # one location: a Paren, not a Tuple
    assert isinstance(allowed, exp.Paren) and allowed.this.this == PREFIX_URL


def test_create_stage_points_at_the_prefix_through_the_integration() -> None:
    create = parse(OBJECTS.create_stage_sql())
    assert isinstance(create, exp.Create) and create.args["kind"] == "STAGE"
    assert create.this.sql(dialect="snowflake") == OBJECTS.stage
    properties = {p.name.upper(): p.args["value"] for p in create.args["properties"].expressions if "value" in p.args}
    assert properties["URL"].this == PREFIX_URL
    assert properties["STORAGE_INTEGRATION"].name == OBJECTS.integration


def declared() -> Observed:
    return Observed(
        integration=dict(OBJECTS.desired_integration()),
        stage={"NAME": "AML_RAW_UNLOAD_STAGE", "URL": f'["{PREFIX_URL}"]', "STORAGE_INTEGRATION": "AML_RAW_UNLOAD"},
    )


def test_apply_is_idempotent_when_snowflake_matches() -> None:
    assert statements(OBJECTS, declared()) == ([], [])


def test_a_broader_location_is_narrowed_to_the_prefix() -> None:
    observed = declared()
    assert observed.integration is not None
    observed.integration["STORAGE_ALLOWED_LOCATIONS"] = "azure://stgloborealtymldevx3f.blob.core.windows.net/rawdata/"
    observed.integration["USE_PRIVATELINK_ENDPOINT"] = "false"
    ddl, notes = statements(OBJECTS, observed)
    assert ddl == [
        f"ALTER STORAGE INTEGRATION AML_RAW_UNLOAD SET STORAGE_ALLOWED_LOCATIONS = ('{PREFIX_URL}') "
        "USE_PRIVATELINK_ENDPOINT = TRUE"
    ]
    assert len(notes) == 2
    tokens = [t.text.upper() for t in sqlglot.tokenize(ddl[0], read="snowflake")]
    assert tokens[:4] == ["ALTER", "STORAGE INTEGRATION", "AML_RAW_UNLOAD", "SET"]


def test_missing_objects_are_created_stage_after_integration() -> None:
    ddl, _ = statements(OBJECTS, Observed(integration=None, stage=None))
    assert ddl == [OBJECTS.create_integration_sql(), OBJECTS.create_stage_sql()]


class Scripted:
    """Our own SqlRunner seam (not the connector): answers from a script, records what was sent."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.sent: list[str] = []

    def rows(self, sql: str) -> list[dict[str, Any]]:
        self.sent.append(sql)
        for prefix, answer in self.answers.items():
            if sql.startswith(prefix):
                if isinstance(answer, SnowflakeSqlError):
                    raise answer
                return list(answer)
        return []


def test_a_role_without_create_integration_gets_one_line_with_the_exact_ddl() -> None:
    runner = Scripted(
        {
            "DESC STORAGE INTEGRATION": SnowflakeSqlError(2003, "Integration 'AML_RAW_UNLOAD' does not exist"),
            "SHOW STAGES": [],
            "CREATE STORAGE INTEGRATION": SnowflakeSqlError(INSUFFICIENT_PRIVILEGES, "Insufficient privileges"),
        }
    )
    with pytest.raises(BootstrapError) as caught:
        apply_objects(OBJECTS, runner, role="AML_READER")
    message = str(caught.value)
    assert "\n" not in message
    assert "one-time ACCOUNTADMIN step" in message
    assert OBJECTS.create_integration_sql() in message and OBJECTS.create_stage_sql() not in message
    assert "GRANT USAGE ON INTEGRATION AML_RAW_UNLOAD TO ROLE AML_READER" in message
    assert not any(s.startswith("CREATE STAGE") for s in runner.sent)  # stopped before the stage


def test_apply_runs_only_what_differs() -> None:
    runner = Scripted(
        {
            "DESC STORAGE INTEGRATION": [
                {"PROPERTY": k, "PROPERTY_VALUE": v} for k, v in OBJECTS.desired_integration().items()
            ],
            "SHOW STAGES": [],
        }
    )
    notes = apply_objects(OBJECTS, runner, role="AML_UNLOADER")
    assert notes == [f"stage {OBJECTS.stage}: create"]
    assert runner.sent[-1] == OBJECTS.create_stage_sql()
    assert all(isinstance(parse(s), (exp.Describe, exp.Show, exp.Create)) for s in runner.sent)
