"""A deterministic synthetic GloboRealty house-price table, for tests and the local rehearsal."""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

CITIES: dict[str, tuple[str, ...]] = {
    "urban": ("Lisbon", "Porto", "Madrid", "Barcelona"),
    "suburban": ("Cascais", "Sintra", "Alcobendas", "Sant Cugat"),
    "waterfront": ("Lagos", "Ericeira", "Marbella", "Sitges"),
}
PROPERTY_TYPES = ("apartment", "townhouse", "detached", "villa")
# per-market price of a square foot and its spread, in euros
_PRICE_PER_SQFT = {"urban": 520.0, "suburban": 330.0, "waterfront": 710.0}

SNOWFLAKE_COLUMNS: Sequence[tuple[str, str]] = (
    ("ID", "INTEGER"),
    ("MARKET", "VARCHAR"),
    ("LOCATION", "VARCHAR"),
    ("PROPERTY_TYPE", "VARCHAR"),
    ("SQUARE_FEET", "INTEGER"),
    ("BEDROOMS", "INTEGER"),
    ("BATHROOMS", "INTEGER"),
    ("YEAR_BUILT", "INTEGER"),
    ("LOT_SIZE_SQFT", "INTEGER"),
    ("PRICE", "NUMBER(12,2)"),
)


def house_prices(rows: int, *, seed: int = 42) -> pa.Table:
    """``rows`` houses; price grows with size, bedrooms, lot and recency, and depends on the market."""
    rng = np.random.default_rng(seed)
    markets = rng.choice(list(CITIES), size=rows, p=[0.45, 0.4, 0.15])
    city_index = rng.integers(0, 4, size=rows)
    locations = [CITIES[m][i] for m, i in zip(markets, city_index, strict=True)]
    property_types = rng.choice(PROPERTY_TYPES, size=rows, p=[0.45, 0.25, 0.2, 0.1])
    bedrooms = rng.integers(1, 7, size=rows)
    square_feet = (bedrooms * 380 + rng.normal(300, 180, size=rows)).clip(350).round().astype(np.int64)
    bathrooms = np.maximum(1, bedrooms - rng.integers(0, 2, size=rows))
    year_built = rng.integers(1920, 2026, size=rows)
    lot = (
        np.where(property_types == "apartment", 0, square_feet * rng.uniform(1.2, 6.0, size=rows))
        .round()
        .astype(np.int64)
    )
    per_sqft = np.array([_PRICE_PER_SQFT[m] for m in markets]) * rng.normal(1.0, 0.08, size=rows)
    age_factor = 1.0 - (2025 - year_built) * 0.0025
    price = (square_feet * per_sqft * age_factor + bedrooms * 9_000 + lot * 18.0).round(2)
    return pa.table(
        {
            "ID": pa.array(np.arange(1, rows + 1), pa.int64()),
            "MARKET": pa.array(markets.tolist(), pa.string()),
            "LOCATION": pa.array(locations, pa.string()),
            "PROPERTY_TYPE": pa.array(property_types.tolist(), pa.string()),
            "SQUARE_FEET": pa.array(square_feet, pa.int64()),
            "BEDROOMS": pa.array(bedrooms, pa.int64()),
            "BATHROOMS": pa.array(bathrooms, pa.int64()),
            "YEAR_BUILT": pa.array(year_built, pa.int64()),
            "LOT_SIZE_SQFT": pa.array(lot, pa.int64()),
            "PRICE": pa.array(price, pa.float64()),
        }
    )


def house_price_batches(rows: int, *, seed: int = 42, batch_rows: int = 100_000) -> Iterator[pa.Table]:
    """``rows`` houses in tables of at most ``batch_rows`` (memory stays at one batch); batch ``i`` is
    seeded with ``seed * 100_003 + i`` and IDs continue across batches, so the result depends only on rows and seed."""
    for index, start in enumerate(range(0, rows, batch_rows)):
        table = house_prices(min(batch_rows, rows - start), seed=seed * 100_003 + index)
        yield table.set_column(0, "ID", pc.add(table.column("ID"), start))


def seed_fakesnow(cursor: Any, table: pa.Table | Iterable[pa.Table], *, fq_name: str, scratch: Path) -> None:
    """Creates ``fq_name`` (DB.SCHEMA.TABLE) on a fakesnow server and loads ``table`` (or a stream of
    tables with the same columns) into it.

    Row-by-row INSERTs cost fakesnow about 2 ms a row (each statement is transpiled), so the rows
    go through a Parquet file that fakesnow's DuckDB reads directly: emulator-only SQL.
    """
    database, schema, _ = fq_name.split(".")
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {database}.{schema}")
    columns = ", ".join(f"{name} {kind}" for name, kind in SNOWFLAKE_COLUMNS)
    cursor.execute(f"CREATE OR REPLACE TABLE {fq_name} ({columns})")
    names = [name for name, _ in SNOWFLAKE_COLUMNS]
    scratch.mkdir(parents=True, exist_ok=True)
    parquet = scratch / f"{fq_name}.parquet"
    parts = [table] if isinstance(table, pa.Table) else table
    writer: pq.ParquetWriter | None = None
    try:
        for part in parts:
            selected = part.select(names)
            writer = writer or pq.ParquetWriter(parquet, selected.schema)
            writer.write_table(selected)
    finally:
        if writer is not None:
            writer.close()
    cursor.execute(f"INSERT INTO {fq_name} SELECT {', '.join(names)} FROM read_parquet('{parquet}')")
