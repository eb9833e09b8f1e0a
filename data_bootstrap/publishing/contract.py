"""The data contract (``[data_contract]`` in the config) checked on Arrow data.

``apply`` checks every batch while it spills, before anything is uploaded or registered; ``verify``
checks the loaded asset with the same code. Column names compare case-insensitively (Snowflake
returns upper case).
"""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from data_bootstrap.errors import BootstrapError
from stacks.config import DataContractSection

_SAMPLES = 3


def _kinds(kind: pa.DataType) -> set[str]:
    """The contract kinds an Arrow type satisfies by its type alone (``integer`` for floats and
    decimals with a scale is decided by the values)."""
    if pa.types.is_null(kind):
        return {"text", "integer", "number", "boolean", "date", "timestamp"}  # no values to disagree
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return {"text"}
    if pa.types.is_integer(kind) or (pa.types.is_decimal(kind) and kind.scale == 0):
        return {"integer", "number"}
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return {"number"}
    if pa.types.is_boolean(kind):
        return {"boolean"}
    if pa.types.is_date(kind):
        return {"date"}
    if pa.types.is_timestamp(kind):
        return {"timestamp"}
    return set()


def _bounds(text: str) -> tuple[float | None, float | None]:
    low, high = (part.strip() for part in text.split(".."))
    return (float(low) if low else None, float(high) if high else None)


@dataclass
class _ColumnState:
    name: str  # as the data spells it
    kind: str  # as the contract requires
    nulls: int = 0
    fractional: int = 0
    disallowed: set[str] = field(default_factory=set)
    low: float | None = None
    high: float | None = None


class ContractCheck:
    """Feed it the batches (``update``); ``problems()`` lists every breach, one short phrase each."""

    def __init__(self, contract: DataContractSection) -> None:
        self._contract = contract
        self._columns: dict[str, _ColumnState] | None = None
        self._schema_problems: list[str] = []
        self.rows = 0
        lower = {name.lower(): name for name in contract.columns}
        self._not_null = {name.lower() for name in contract.not_null}
        self._allowed = {
            name.lower(): {value.strip().lower() for value in values.split(",")}
            for name, values in contract.allowed_values.items()
        }
        self._ranges = {name.lower(): _bounds(text) for name, text in contract.ranges.items()}
        self._declared = lower

    def _start(self, schema: pa.Schema) -> dict[str, _ColumnState]:
        present = {name.lower(): name for name in schema.names}
        columns: dict[str, _ColumnState] = {}
        for lower, declared in self._declared.items():
            kind = self._contract.columns[declared]
            if lower not in present:
                self._schema_problems.append(
                    f"column {declared!r} is missing (found: {', '.join(sorted(present)) or 'none'})"
                )
                continue
            actual = schema.field(present[lower]).type
            possible = _kinds(actual)
            integral_by_value = kind == "integer" and "number" in possible
            if kind not in possible and not integral_by_value:
                self._schema_problems.append(f"column {declared!r} is {actual}, expected {kind}")
                continue
            columns[lower] = _ColumnState(name=present[lower], kind=kind)
        return columns

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        if self._columns is None:
            self._columns = self._start(batch.schema)
        self.rows += batch.num_rows
        for lower, state in self._columns.items():
            column = batch.column(state.name)
            self._update_column(lower, state, column)

    def _update_column(self, lower: str, state: _ColumnState, column: pa.Array | pa.ChunkedArray) -> None:
        numeric = pa.types.is_floating(column.type) or pa.types.is_decimal(column.type)
        if lower in self._not_null:
            state.nulls += column.null_count
            if pa.types.is_floating(column.type):
                state.nulls += pc.sum(pc.is_nan(column)).as_py() or 0
        if pa.types.is_null(column.type):
            return
        if state.kind == "integer" and numeric:
            whole = pc.equal(pc.floor(column.cast(pa.float64())), column.cast(pa.float64()))
            state.fractional += pc.sum(pc.invert(whole)).as_py() or 0
        if lower in self._allowed and "text" in _kinds(column.type) and len(state.disallowed) < _SAMPLES:
            values = pc.unique(pc.drop_null(column))
            state.disallowed |= {v for v in values.to_pylist() if v.lower() not in self._allowed[lower]}
        if lower in self._ranges:
            bounds = pc.min_max(pc.drop_null(column.cast(pa.float64()))).as_py()
            for key, pick in (("min", min), ("max", max)):
                value = bounds[key]
                if value is not None and not math.isnan(value):
                    current = state.low if key == "min" else state.high
                    chosen = value if current is None else pick(current, value)
                    state.low, state.high = (chosen, state.high) if key == "min" else (state.low, chosen)

    def problems_of_schema(self) -> list[str]:
        """Missing columns and wrong types: known from the first batch."""
        return list(self._schema_problems)

    def problems(self) -> list[str]:
        problems = list(self._schema_problems)
        if self.rows < self._contract.min_rows:
            problems.append(f"{self.rows:,} rows, expected at least {self._contract.min_rows:,}")
        for lower, state in (self._columns or {}).items():
            declared = self._declared[lower]
            if state.nulls:
                problems.append(f"column {declared!r} has {state.nulls:,} NULL/NaN value(s), expected none")
            if state.fractional:
                problems.append(f"column {declared!r} has {state.fractional:,} non-whole value(s), expected integer")
            if state.disallowed:
                allowed = sorted(self._allowed[lower])
                shown = ", ".join(repr(_short(v)) for v in sorted(state.disallowed)[:_SAMPLES])
                problems.append(f"column {declared!r} has values outside {allowed}: {shown}")
            if lower in self._ranges:
                low, high = self._ranges[lower]
                if low is not None and state.low is not None and state.low < low:
                    problems.append(f"column {declared!r} has minimum {state.low:g}, expected >= {low:g}")
                if high is not None and state.high is not None and state.high > high:
                    problems.append(f"column {declared!r} has maximum {state.high:g}, expected <= {high:g}")
        return problems


def _short(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def frame_to_arrow(frame: pd.DataFrame) -> tuple[pa.Table, list[str]]:
    """The loaded asset as Arrow, column by column; a column Arrow cannot type (mixed values) is a
    problem of its own and becomes text, so the other checks still run."""
    arrays, problems = {}, []
    for name in frame.columns:
        try:
            arrays[str(name)] = pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            problems.append(f"column {str(name)!r} mixes types ({str(error).splitlines()[0][:80]})")
            arrays[str(name)] = pa.array(frame[name].astype(str), pa.string())
    return pa.table(arrays), problems


def check_table(table: pa.Table, contract: DataContractSection) -> list[str]:
    check = ContractCheck(contract)
    check.update(table)
    return check.problems()


def contract_error(problems: list[str]) -> BootstrapError:
    """The refusal every engine raises when the query result breaks the contract: nothing is registered."""
    return BootstrapError(
        f"the query result breaks the data contract, nothing registered: {'; '.join(problems)}",
        "fix the source table or snowflake.query, or change [data_contract] in the config if the change is intended",
    )
