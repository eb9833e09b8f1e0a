"""Is a Snowflake query one read-only statement? Checked with a SQL parser (sqlglot, Snowflake dialect).

Used by the config rule for ``[snowflake].query`` (``stacks/config.py``) and so by everything that
loads a config, ``data_bootstrap`` included. Read-only means:

- exactly one statement (a trailing ``;`` is fine; ``;`` inside a string or a comment is not a
  separator; a second statement, with or without ``;``, is refused);
- a query: ``SELECT``, set operations (``UNION``/``INTERSECT``/``EXCEPT``), ``WITH`` CTEs, a
  parenthesised query; comments anywhere;
- no ``SELECT ... INTO`` (it creates a table), and no data-changing statement nested anywhere;
- no function with side effects: ``SYSTEM$...`` (Snowflake's system functions cancel queries, abort
  sessions, change settings; the harmless ones are not needed for an import) and ``<sequence>.NEXTVAL``.

sqlglot is imported on first use: it costs about 0.2 s, paid only when a query needs the parser.
The one shape that does not, ``SELECT * FROM <table>`` with plain identifiers (the default query and
almost every configured one), is one read-only statement by construction and accepted as is.
"""

from __future__ import annotations

import logging
import re

_FIX = "use one read-only query such as 'SELECT * FROM DB.SCHEMA.TABLE'"
# Every column of one table named by unquoted identifiers, nothing else: no comment, string, call,
# INTO or second statement can match, so this only ever accepts what the parser accepts (tested);
# anything else, however simple, goes to the parser. Saves importing sqlglot on most synths.
_WHOLE_TABLE = re.compile(
    r"\s*SELECT\s+\*\s+FROM\s+[A-Z_][A-Z0-9_$]*(?:\.[A-Z_][A-Z0-9_$]*){0,2}\s*;?\s*", re.IGNORECASE | re.ASCII
)


def read_only_problem(query: str) -> tuple[str, str] | None:
    """None when ``query`` is a single read-only Snowflake query, else (problem, fix)."""
    return None if _WHOLE_TABLE.fullmatch(query) else parsed_problem(query)


def parsed_problem(query: str) -> tuple[str, str] | None:
    """``read_only_problem`` decided by the parser alone."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # it warns on syntax it falls back on
    short = " ".join(query.split())[:80]
    try:
        statements = [s for s in sqlglot.parse(query, read="snowflake") if s is not None]
    except (ParseError, TokenError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (f"{short!r} is not a single SELECT statement (not valid Snowflake SQL: {first})", _FIX)
    if len(statements) != 1:
        return (f"{short!r} is not a single SELECT statement ({len(statements)} statements)", _FIX)
    statement = statements[0]
    root = statement.this if isinstance(statement, exp.Subquery) else statement
    if not isinstance(root, exp.Query):
        return (f"{short!r} is not a single SELECT statement (it is {type(root).__name__.upper()})", _FIX)
    writes = (exp.Into, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command)
    for node in statement.walk():
        if isinstance(node, writes):
            return (f"{short!r} is not a single SELECT statement (it writes: {type(node).__name__.upper()})", _FIX)
        name = str(node.name) if isinstance(node, exp.Anonymous) else ""  # SYSTEM$... parse as Anonymous
        if name.upper().startswith("SYSTEM$"):
            return (f"{short!r} is not a single SELECT statement (it calls {name}, which has side effects)", _FIX)
        if isinstance(node, exp.Column) and node.name.upper() == "NEXTVAL" and node.table:
            return (f"{short!r} is not a single SELECT statement (NEXTVAL advances a sequence)", _FIX)
    return None
