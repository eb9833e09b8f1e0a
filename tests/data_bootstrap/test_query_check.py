"""The read-only query check (``stacks/readonly_sql.py``, the rule of ``[snowflake].query``), issue 12 item 9:
the regex refused read-only queries and accepted writes; a SQL parser decides now."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_bootstrap.errors import BootstrapError
from data_bootstrap.settings import REPO_ROOT, load_config
from stacks.readonly_sql import read_only_problem

READ_ONLY = {
    "cte": "WITH recent AS (SELECT * FROM GLOBOREALTY.REAL_ESTATE.RAW WHERE YEAR_BUILT > 2000) SELECT * FROM recent",
    "leading-block-comment": "/* nightly import */ SELECT * FROM GLOBOREALTY.REAL_ESTATE.RAW",
    "parenthesised": "(SELECT * FROM GLOBOREALTY.REAL_ESTATE.RAW)",
    "semicolon-in-string": "SELECT ID, 'a;b' AS NOTE FROM GLOBOREALTY.REAL_ESTATE.RAW",
    "semicolon-in-line-comment": "SELECT * FROM GLOBOREALTY.REAL_ESTATE.RAW -- no; more\n",
    "trailing-semicolon": "SELECT * FROM GLOBOREALTY.REAL_ESTATE.RAW;",
    "union": "SELECT * FROM A.B.C UNION ALL SELECT * FROM A.B.D",
    "functions": "SELECT UPPER(MARKET), CURRENT_TIMESTAMP() AS AT FROM GLOBOREALTY.REAL_ESTATE.RAW",
}
WRITES = {
    "select-into": ("SELECT * INTO T2 FROM GLOBOREALTY.REAL_ESTATE.RAW", "it writes: INTO"),
    "second-statement-without-semicolon": ("SELECT * FROM T\nDROP TABLE T", "not valid Snowflake SQL"),
    "full-width-semicolon": ("SELECT * FROM T； DROP TABLE T", "not valid Snowflake SQL"),
    "system-function": ("SELECT SYSTEM$CANCEL_ALL_QUERIES(1)", "SYSTEM$CANCEL_ALL_QUERIES, which has side effects"),
    "two-statements": ("DELETE FROM X; SELECT * FROM T", "2 statements"),
    "delete": ("DELETE FROM T", "it is DELETE"),
    "call": ("CALL REFRESH()", "it is COMMAND"),
    "sequence": ("SELECT SEQ.NEXTVAL FROM T", "NEXTVAL advances a sequence"),
}


@pytest.mark.parametrize("query", READ_ONLY.values(), ids=READ_ONLY.keys())
def test_read_only_queries_pass(query: str) -> None:
    assert read_only_problem(query) is None


@pytest.mark.parametrize(("query", "reason"), WRITES.values(), ids=WRITES.keys())
def test_anything_else_is_refused_with_the_reason(query: str, reason: str) -> None:
    verdict = read_only_problem(query)
    assert verdict is not None
    problem, fix = verdict
    assert "is not a single SELECT statement" in problem and reason in problem
    assert "\n" not in problem and "read-only query" in fix


def test_the_config_rule_uses_the_parser(tmp_path: Path) -> None:
    text = (REPO_ROOT / "config" / "dev.toml").read_text(encoding="utf-8")
    path = tmp_path / "dev.toml"
    path.write_text(text.replace('query = "SELECT * FROM', 'query = "SELECT SYSTEM$ABORT_SESSION(1), * FROM'))
    with pytest.raises(BootstrapError, match=r"snowflake\.query: .*SYSTEM\$ABORT_SESSION, which has side effects"):
        load_config(path, env="dev")
    path.write_text(text.replace('query = "SELECT * FROM', 'query = "/* ok */ WITH a AS (SELECT * FROM'))
    with pytest.raises(BootstrapError, match="not valid Snowflake SQL"):  # the CTE is never closed
        load_config(path, env="dev")
    path.write_text(text.replace('query = "SELECT * FROM GLOBOREALTY.REAL_ESTATE.RAW"', 'query = "(SELECT 1)"'))
    assert load_config(path, env="dev").snowflake.query == "(SELECT 1)"
