"""Issue 12, item 10: what verify prints and writes stays readable whatever the data holds, and
a path prefix that would not match the registered path is refused."""

# pandas ships no type information (no stubs in the lock)

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pandas as pd
import pytest

from data_bootstrap.errors import BootstrapError
from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.publishing.profile_report import write_profile_report
from data_bootstrap.publishing.verify import CELL_WIDTH, verify_frame, write_profile
from data_bootstrap.rehearsal.synthetic import house_prices
from data_bootstrap.settings import REPO_ROOT, load_config
from stacks.config import DataContractSection

CONTRACT = DataContractSection()


def test_huge_strings_and_nan_or_inf_print_compactly_and_quietly(tmp_path: Path) -> None:
    frame = house_prices(20, seed=1).to_pandas()
    frame["LOCATION"] = "x" * 1_000_000
    frame["LOT_SIZE_SQFT"] = [math.nan, math.inf, -math.inf] + [1.0] * 17
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would fail the test
        result = verify_frame(frame, CONTRACT)
        write_profile(frame, result, directory=tmp_path, asset="a", version="v")
    assert result.ok
    assert len(result.head) + len(result.describe) < 20_000  # was 10 MB for 1 MB strings
    assert max(len(cell) for line in result.head.splitlines() for cell in line.split()) <= CELL_WIDTH


def test_profile_markdown_escapes_values_and_shows_the_imported_types(tmp_path: Path) -> None:
    frame = house_prices(30, seed=2).to_pandas()
    frame["LOCATION"] = ["Porto | Norte\nsecond line"] * 30
    frame["BEDROOMS"] = frame["BEDROOMS"].astype(float)  # what pandas does to an int column with NULLs
    result = verify_frame(frame, CONTRACT)
    path = write_profile_report(
        frame, result, directory=tmp_path, asset="a", version="v", progress=ProgressPrinter(),
        imported_types={"BEDROOMS": "int64"},
    )  # fmt: skip
    text = path.read_text(encoding="utf-8")
    (row,) = [line for line in text.splitlines() if line.startswith("| LOCATION | 1 |")]
    assert row == "| LOCATION | 1 | Porto \\| Norte second line (30) |"
    assert row.replace("\\|", "").count("|") == 4  # three cells: the value's pipe does not split the row
    assert "| BEDROOMS | int64 |" in text


@pytest.mark.parametrize("prefix", ["/", "raw//data", "../raw", "raw/"])
def test_a_path_prefix_that_is_not_a_relative_folder_is_refused(tmp_path: Path, prefix: str) -> None:
    """``path_prefix = "/"`` wrote /<version>/... blobs while the registered path differed."""
    text = (REPO_ROOT / "config" / "dev.toml").read_text(encoding="utf-8")
    path = tmp_path / "dev.toml"
    path.write_text(text + f'\n[data_asset]\npath_prefix = "{prefix}"\n', encoding="utf-8")
    with pytest.raises(BootstrapError, match=r"data_asset\.path_prefix: .* is not a relative folder"):
        load_config(path, env="dev")


def test_a_drifting_frame_is_reported_column_by_column() -> None:
    frame = pd.DataFrame({"market": ["urban", None], "price": [-1.0, 2.0], "square_feet": [1, 2]})
    problems = verify_frame(frame, CONTRACT).problems
    assert "column 'market' has 1 NULL/NaN value(s), expected none" in problems
    assert "column 'price' has minimum -1, expected >= 0" in problems
    assert any(p.startswith("column 'location' is missing") for p in problems)
