"""The data profile report: its numbers match the data (computed here independently with pandas)."""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import struct
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.publishing.profile_report import NUMERIC_HEADERS, write_profile_report
from data_bootstrap.publishing.verify import verify_frame
from data_bootstrap.rehearsal.synthetic import house_prices
from stacks.config import DataContractSection

ROWS = 3_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

CONTRACT = DataContractSection()


def sample() -> pd.DataFrame:
    """Synthetic houses with some nulls, so null rates are not all zero, and prices as Decimal objects,
    the way mltable hands over Snowflake NUMBER(12,2) columns."""
    frame = house_prices(ROWS, seed=21).to_pandas()
    frame["PRICE"] = frame["PRICE"].map(lambda value: Decimal(f"{value:.2f}"))
    rng = np.random.default_rng(4)
    frame["LOT_SIZE_SQFT"] = frame["LOT_SIZE_SQFT"].astype("Float64")
    frame.loc[rng.choice(ROWS, size=150, replace=False), "LOT_SIZE_SQFT"] = pd.NA
    frame.loc[rng.choice(ROWS, size=30, replace=False), "LOCATION"] = None
    return frame


def table_rows(markdown: str, heading: str) -> dict[str, list[str]]:
    """The rows of the Markdown table under ``## heading``, keyed by their first cell."""
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]
    return {row[0]: row[1:] for row in cells}


def number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    frame = sample()
    directory = tmp_path_factory.mktemp("profile")
    result = verify_frame(frame, CONTRACT)
    path = write_profile_report(
        frame, result, directory=directory, asset="raw_house_data", version="v1", progress=ProgressPrinter()
    )
    return frame, path


def test_row_count_schema_and_null_rates_match_the_data(report: tuple[pd.DataFrame, Path]) -> None:
    frame, path = report
    markdown = path.read_text(encoding="utf-8")
    assert path.name == "raw_house_data-v1.md"
    assert f"- rows: {ROWS:,}" in markdown and "- verify: ok" in markdown
    schema = table_rows(markdown, "Schema and null rates")
    assert list(schema) == list(frame.columns)
    for column in frame.columns:
        _type, nulls, rate = schema[column]
        assert int(nulls.replace(",", "")) == frame[column].isna().sum()
        assert rate == f"{frame[column].isna().mean():.2%}"
    assert schema["PRICE"][0].startswith("decimal128(") and schema["MARKET"][0] == "string"
    assert schema["LOT_SIZE_SQFT"][1:] == ["150", "5.00%"]


def test_numeric_statistics_match_pandas(report: tuple[pd.DataFrame, Path]) -> None:
    frame, path = report
    numeric = table_rows(path.read_text(encoding="utf-8"), "Numeric columns")
    assert set(numeric) == {"ID", "SQUARE_FEET", "BEDROOMS", "BATHROOMS", "YEAR_BUILT", "LOT_SIZE_SQFT", "PRICE"}
    for column, cells in numeric.items():
        values = frame[column].dropna().astype(float)
        expected = {
            "min": values.min(),
            "p25": values.quantile(0.25),
            "median": values.median(),
            "mean": values.mean(),
            "p75": values.quantile(0.75),
            "max": values.max(),
            "std": values.std(),
        }
        for header, cell in zip(NUMERIC_HEADERS[1:], cells, strict=True):
            assert number(cell) == pytest.approx(expected[header], abs=0.006), (column, header)


def test_text_columns_show_distinct_counts_and_most_common_values(report: tuple[pd.DataFrame, Path]) -> None:
    frame, path = report
    text = table_rows(path.read_text(encoding="utf-8"), "Text columns")
    assert set(text) == {"MARKET", "LOCATION", "PROPERTY_TYPE"}
    for column, (distinct, top) in text.items():
        counts = frame[column].dropna().value_counts()
        assert int(distinct) == len(counts)
        expected = ", ".join(f"{value} ({count:,})" for value, count in counts.head(3).items())
        assert top == expected


def test_charts_are_real_pngs_linked_from_the_page(report: tuple[pd.DataFrame, Path]) -> None:
    _, path = report
    markdown = path.read_text(encoding="utf-8")
    for name in ("price-histogram", "square_feet-histogram", "price-by-market"):
        png = path.parent / f"raw_house_data-v1-{name}.png"
        assert f"]({png.name})" in markdown
        data = png.read_bytes()
        assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
        assert struct.unpack(">II", data[16:24]) == (700, 400)  # 7 x 4 inches at 100 dpi
        assert 8_000 < len(data) < 200_000, len(data)  # drawn content, not an empty canvas
