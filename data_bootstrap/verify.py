"""Checks on a loaded data asset: the data contract (the one ``apply`` enforced before registering),
printed compactly, plus the small JSON profile."""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from data_bootstrap.contract import check_table, frame_to_arrow
from stacks.config import DataContractSection

CELL_WIDTH = 40  # characters per printed cell: a 1 MB string must not flood the terminal


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
    decimal = [
        column
        for column in frame.columns
        if frame[column].dtype == object
        and len(values := frame[column].dropna())
        and all(isinstance(value, Decimal) for value in values)
    ]
    return frame.astype(dict.fromkeys(decimal, "float64")) if decimal else frame


def verify_frame(
    frame: pd.DataFrame, contract: DataContractSection, *, problems: list[str] | None = None
) -> VerifyResult:
    """``problems`` are found elsewhere (the folder, the manifest) and reported with the contract's."""
    table, typing_problems = frame_to_arrow(frame)
    found = [*(problems or []), *typing_problems, *check_table(table, contract)]
    with (
        pd.option_context("display.width", 160, "display.max_columns", 20, "display.max_colwidth", CELL_WIDTH),
        warnings.catch_warnings(),
        np.errstate(all="ignore"),
    ):
        warnings.simplefilter("ignore", RuntimeWarning)  # describe() over NaN/inf: the numbers are still right
        head = frame.head(10).to_string(max_colwidth=CELL_WIDTH)
        describe = numeric_view(frame).describe(include="all").to_string(max_colwidth=CELL_WIDTH) if len(frame) else ""
    return VerifyResult(rows=len(frame), problems=found, head=head, describe=describe)


def write_profile(frame: pd.DataFrame, result: VerifyResult, *, directory: Path, asset: str, version: str) -> Path:
    """A small JSON data profile (dtypes, nulls, numeric summary) next to the verify verdict."""
    directory.mkdir(parents=True, exist_ok=True)
    numeric = numeric_view(frame).select_dtypes("number")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        summary = json.loads(numeric.describe().to_json()) if len(numeric.columns) else {}
    profile = {
        "asset": asset,
        "version": version,
        "rows": result.rows,
        "ok": result.ok,
        "problems": result.problems,
        "columns": {str(c): {"dtype": str(frame[c].dtype), "nulls": int(frame[c].isna().sum())} for c in frame.columns},
        "numeric_summary": summary,
    }
    path = directory / f"{asset}-{version}.json"
    path.write_text(json.dumps(profile, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
