"""Checks on a loaded data asset: rows present, expected columns with expected kinds of types."""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pandas.api import types as ptypes

# column -> kind; names compare case-insensitively (Snowflake returns upper case)
EXPECTED_COLUMNS: dict[str, str] = {
    "market": "text",
    "location": "text",
    "property_type": "text",
    "square_feet": "number",
    "bedrooms": "integer",
    "year_built": "integer",
    "price": "number",
}
MARKETS = frozenset({"urban", "suburban", "waterfront"})


@dataclass(frozen=True, kw_only=True)
class VerifyResult:
    rows: int
    problems: list[str] = field(default_factory=list)
    head: str = ""
    describe: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def numeric_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal columns (Snowflake NUMBER(p,s) arrives as Python Decimals, dtype object) as floats, for statistics."""
    decimal = [c for c in frame.columns if frame[c].dtype == object and _kind_ok(frame[c], "number")]
    return frame.astype(dict.fromkeys(decimal, "float64")) if decimal else frame


def _kind_ok(series: pd.Series, kind: str) -> bool:
    values = series.dropna()
    is_text = bool(values.map(lambda v: isinstance(v, str)).all()) if len(values) else ptypes.is_string_dtype(series)
    if kind == "text":
        return is_text
    if is_text and not ptypes.is_numeric_dtype(series):
        return False
    # NUMBER columns may arrive as Decimal objects: coerce, then require every value to convert
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.isna().any():
        return False
    return kind != "integer" or bool((numeric % 1 == 0).all())


def verify_frame(frame: pd.DataFrame) -> VerifyResult:
    columns = {str(c).lower(): c for c in frame.columns}
    problems: list[str] = []
    if len(frame) == 0:
        problems.append("the asset has no rows")
    for name, kind in EXPECTED_COLUMNS.items():
        if name not in columns:
            problems.append(f"column {name!r} is missing (found: {', '.join(sorted(columns))})")
        elif len(frame) and not _kind_ok(frame[columns[name]], kind):
            problems.append(f"column {name!r} has type {frame[columns[name]].dtype}, expected {kind}")
    if "market" in columns and len(frame):
        unknown = set(frame[columns["market"]].dropna().astype(str).str.lower()) - MARKETS
        if unknown:
            problems.append(f"column 'market' has values outside {sorted(MARKETS)}: {sorted(unknown)[:5]}")
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        head = frame.head(10).to_string()
        describe = numeric_view(frame).describe(include="all").to_string() if len(frame) else ""
    return VerifyResult(rows=len(frame), problems=problems, head=head, describe=describe)


def write_profile(frame: pd.DataFrame, result: VerifyResult, *, directory: Path, asset: str, version: str) -> Path:
    """A small JSON data profile (dtypes, nulls, numeric summary) next to the verify verdict."""
    directory.mkdir(parents=True, exist_ok=True)
    numeric = numeric_view(frame).select_dtypes("number")
    profile = {
        "asset": asset,
        "version": version,
        "rows": result.rows,
        "ok": result.ok,
        "problems": result.problems,
        "columns": {str(c): {"dtype": str(frame[c].dtype), "nulls": int(frame[c].isna().sum())} for c in frame.columns},
        "numeric_summary": json.loads(numeric.describe().to_json()) if len(numeric.columns) else {},
    }
    path = directory / f"{asset}-{version}.json"
    path.write_text(json.dumps(profile, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
