"""The read-only query check (``stacks/readonly_sql.py``, the rule of ``[snowflake].query``), issue 12 item 9:
the regex refused read-only queries and accepted writes; a SQL parser decides now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_bootstrap.errors import BootstrapError
from data_bootstrap.settings import REPO_ROOT, load_config
from stacks.readonly_sql import _WHOLE_TABLE, parsed_problem, read_only_problem

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


# --- the parser-free shape: SELECT * FROM <table> --------------------------------------

IDENTIFIER = st.from_regex(r"[A-Za-z_][A-Za-z0-9_$]{0,12}", fullmatch=True)
SPACE = st.sampled_from([" ", "  ", "\n", "\t", " \n "])


@given(
    names=st.lists(IDENTIFIER, min_size=1, max_size=3),
    select=st.sampled_from(["SELECT", "select", "Select"]),
    space=SPACE,
    end=st.sampled_from(["", ";", " ;", ";\n", "\n"]),
)
@settings(max_examples=60, deadline=None)
def test_every_whole_table_query_the_shortcut_takes_the_parser_accepts_too(
    names: list[str], select: str, space: str, end: str
) -> None:
    query = f"{space}{select}{space}*{space}FROM{space}{'.'.join(names)}{end}"
    assert _WHOLE_TABLE.fullmatch(query)
    assert parsed_problem(query) is None, query


@pytest.mark.parametrize(
    "query",
    [
        *(query for query, _ in WRITES.values()),
        *(q for name, q in READ_ONLY.items() if name != "trailing-semicolon"),  # read-only, other shapes
        "SELECT * FROM T; DROP TABLE T",
        "SELECT * FROM T;;",
        "SELECT * FROM T -- note",
        "SELECT * FROM A.B.C.D",
        'SELECT * FROM "quoted"',
        "SELECT * FROM T WHERE 1=1",
        "SELECT * FROM SYSTEM$F()",
        "SELECT * FROM Tａ",  # a full-width letter is not an unquoted identifier character
        "SELECT *\u00a0FROM T",  # a no-break space is not SQL whitespace to the shortcut
    ],
)
def test_anything_but_the_plain_shape_goes_to_the_parser(query: str) -> None:
    assert _WHOLE_TABLE.fullmatch(query) is None


def test_loading_the_default_config_does_not_import_the_parser() -> None:
    """The shortcut's point: a synth of the committed configs never pays for importing sqlglot."""
    probe = (
        "import sys\nfrom pathlib import Path\nfrom data_bootstrap.settings import load_config\n"
        "for env in ('dev', 'prod'):\n    load_config(Path('config') / f'{env}.toml', env=env)\n"
        "print('sqlglot' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "False\n"), done.stderr
