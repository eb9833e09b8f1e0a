"""Data profile report: a Markdown page (row count, schema, null rates, per-column statistics) plus
PNG charts (price and square-footage histograms, price by market), written by ``verify``.

Statistics come from pyarrow.compute over Arrow columns (no per-row Python); charts use
matplotlib's object API with the Agg canvas, so no display is needed.
"""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.figure import Figure

from data_bootstrap.progress import ProgressPrinter

if TYPE_CHECKING:  # verify imports this module to write the report
    from data_bootstrap.publishing.verify import VerifyResult

QUANTILES = (0.25, 0.5, 0.75)
NUMERIC_HEADERS = ("column", "min", "p25", "median", "mean", "p75", "max", "std")
_TOP_VALUES = 3


@dataclass(frozen=True, kw_only=True)
class ColumnProfile:
    name: str
    arrow_type: str
    nulls: int
    rows: int
    numeric: dict[str, float] | None = None  # min, p25, median, mean, p75, max, std
    distinct: int | None = None
    top: tuple[tuple[str, int], ...] = ()

    @property
    def null_rate(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0


def _numeric_stats(column: pa.ChunkedArray) -> dict[str, float] | None:
    values = pc.drop_null(column.cast(pa.float64()))
    if len(values) == 0:
        return None
    low, median, high = pc.quantile(values, q=list(QUANTILES), interpolation="linear").to_pylist()
    bounds = pc.min_max(values).as_py()
    return {
        "min": bounds["min"],
        "p25": low,
        "median": median,
        "mean": pc.mean(values).as_py(),
        "p75": high,
        "max": bounds["max"],
        "std": pc.stddev(values, ddof=1).as_py() if len(values) > 1 else 0.0,
    }


def profile_column(name: str, column: pa.ChunkedArray) -> ColumnProfile:
    common: dict[str, Any] = {"name": name, "arrow_type": str(column.type), "nulls": column.null_count}
    common["rows"] = len(column)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_decimal(column.type):
        return ColumnProfile(**common, numeric=_numeric_stats(column))
    counts = pc.value_counts(pc.drop_null(column)).to_pylist()
    ranked = sorted(counts, key=lambda item: (-item["counts"], str(item["values"])))
    top = tuple((str(item["values"]), int(item["counts"])) for item in ranked[:_TOP_VALUES])
    return ColumnProfile(**common, distinct=len(counts), top=top)


def _column(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    by_lower = {column.lower(): column for column in table.column_names}
    return table.column(by_lower[name]) if name in by_lower else None


def _histogram(values: pa.ChunkedArray, *, title: str, xlabel: str, path: Path) -> None:
    figure = Figure(figsize=(7, 4), dpi=100)
    axes = figure.add_subplot()
    axes.hist(pc.drop_null(values.cast(pa.float64())).to_numpy(), bins=50, color="#2f6f9f")
    axes.set(title=title, xlabel=xlabel, ylabel="houses")
    axes.ticklabel_format(axis="x", style="plain")
    figure.tight_layout()
    figure.savefig(path, format="png")


def _price_by_market(table: pa.Table, price: pa.ChunkedArray, market: pa.ChunkedArray, path: Path) -> None:
    frame = pa.table({"market": market, "price": price.cast(pa.float64())}).drop_null()
    markets = sorted(set(frame.column("market").to_pylist()))
    groups = [pc.filter(frame.column("price"), pc.equal(frame.column("market"), m)).to_numpy() for m in markets]
    figure = Figure(figsize=(7, 4), dpi=100)
    axes = figure.add_subplot()
    axes.boxplot(groups, tick_labels=markets, showfliers=False)
    axes.set(title=f"Price by market ({table.num_rows:,} houses)", xlabel="market", ylabel="price (EUR)")
    axes.ticklabel_format(axis="y", style="plain")
    figure.tight_layout()
    figure.savefig(path, format="png")


def _cell(value: object, *, limit: int = 60) -> str:
    """Text safe inside a Markdown table cell: no line breaks, pipes escaped, long values cut."""
    text = " ".join(str(value).split())
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _markdown(title: str, result: VerifyResult, columns: list[ColumnProfile], charts: dict[str, str]) -> str:
    rows = result.rows
    lines = [f"# Data profile: {title}", "", f"- rows: {rows:,}", f"- columns: {len(columns)}"]
    lines.append(f"- verify: {'ok' if result.ok else 'FAILED: ' + _cell('; '.join(result.problems), limit=10_000)}")
    lines += ["", "## Schema and null rates", "", "| column | type | nulls | null rate |", "| --- | --- | --- | --- |"]
    lines += [f"| {_cell(c.name)} | {_cell(c.arrow_type)} | {c.nulls:,} | {c.null_rate:.2%} |" for c in columns]
    lines += ["", "## Numeric columns", "", "| " + " | ".join(NUMERIC_HEADERS) + " |"]
    lines.append("|" + " --- |" * len(NUMERIC_HEADERS))
    for c in columns:
        if c.numeric is not None:
            lines.append(
                f"| {_cell(c.name)} | " + " | ".join(_number(c.numeric[h]) for h in NUMERIC_HEADERS[1:]) + " |"
            )
    lines += ["", "## Text columns", "", "| column | distinct | most common (count) |", "| --- | --- | --- |"]
    for c in columns:
        if c.distinct is not None:
            top = ", ".join(f"{_cell(value)} ({count:,})" for value, count in c.top)
            lines.append(f"| {_cell(c.name)} | {c.distinct:,} | {top} |")
    lines += ["", "## Charts", ""]
    lines += [f"![{caption}]({file})" for caption, file in charts.items()]
    return "\n".join(lines) + "\n"


def write_profile_report(
    frame: pd.DataFrame,
    result: VerifyResult,
    *,
    directory: Path,
    asset: str,
    version: str,
    progress: ProgressPrinter,
    imported_types: dict[str, str] | None = None,
) -> Path:
    """Writes ``<asset>-<version>.md`` and its PNGs into ``directory``; returns the Markdown path.

    ``imported_types`` (column -> Arrow type, from the manifest) are shown instead of the types the
    column has after loading (mltable and pandas turn nullable integers into floats, decimals into objects)."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{asset}-{version}"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns: list[ColumnProfile] = []
    charts: dict[str, str] = {}
    with progress.phase(f"profiling {asset}:{version}") as report:
        for name in table.column_names:
            profile = profile_column(name, table.column(name))
            if imported_types and name in imported_types:
                profile = dataclasses.replace(profile, arrow_type=imported_types[name])
            columns.append(profile)
            report.advance(nbytes=table.column(name).nbytes)
        price, square_feet, market = (_column(table, n) for n in ("price", "square_feet", "market"))
        for column, label, slug in ((price, "price (EUR)", "price"), (square_feet, "square feet", "square_feet")):
            if column is not None:
                file = f"{stem}-{slug}-histogram.png"
                _histogram(column, title=f"Distribution of {label}", xlabel=label, path=directory / file)
                charts[f"{slug} histogram"] = file
        if price is not None and market is not None:
            file = f"{stem}-price-by-market.png"
            _price_by_market(table, price, market, directory / file)
            charts["price by market"] = file
        report.advance(rows=table.num_rows)
    path = directory / f"{stem}.md"
    path.write_text(_markdown(f"{asset}:{version}", result, columns, charts), encoding="utf-8")
    return path
