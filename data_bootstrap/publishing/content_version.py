"""Exact, type-aware, order-independent content version of a stream of Arrow record batches.

Snowflake promises neither row order (without ORDER BY) nor batch boundaries, so the version must
depend on neither. Each row gets a 128-bit hash (two independent 64-bit lanes) computed with
vectorised numpy over the Arrow buffers, and the digest adds the row hashes modulo 2**64 per lane:
a multiset hash, so any permutation and any batching give the same sums.

What a row hash sees, per column, in column order:
- integers as their int64 (or uint64) value: a NUMBER(38,0) the connector hands over as int8 in one
  chunk and int64 in another hashes alike (``canonical_batch`` widens them before hashing and writing);
- floats as the bits of their float64 value: -0.0 differs from 0.0, every NaN is one canonical NaN;
- decimals as their full 128/256-bit unscaled integer (the scale is in the schema);
- dates, times, timestamps, durations as their integer ticks (unit and time zone are in the schema);
- strings and binaries as their length plus a hash of their bytes in 8-byte words, each word mixed
  with its position, so every byte and its place count;
- NULL as a per-column marker that no value maps to by construction of the lanes (NULL and NaN differ).
The Arrow schema (names and types, after widening) and the row count are folded in at the end with
SHA-256, along with what the caller adds (the query and the target folder).

The mixer is SplitMix64's finaliser (a bijection on 64 bits); two lanes with different seeds make
an accidental collision about 2**-128 per pair of differing rows. It is not a cryptographic hash: it
detects change, it does not resist someone crafting a collision.
"""

# pyarrow ships no type information (no stubs in the lock)

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_bootstrap.errors import BootstrapError

FORMAT = "content-version-2"  # bump when the hash changes: every version changes once
_LANE_SEEDS = (0x243F6A8885A308D3, 0x13198A2E03707344)  # digits of pi: arbitrary, fixed
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_CANONICAL_NAN = np.uint64(0x7FF8000000000000)
_DICTIONARY_MIN_ROWS = 1024  # below this, dictionary-encoding a text column costs more than it saves


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place on a uint64 array (wraps modulo 2**64 by design)."""
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def _seed(*parts: int) -> np.uint64:
    value = np.array([0], dtype=np.uint64)
    for part in parts:
        value ^= np.uint64(part & _MASK)
        _mix(value)
    return np.uint64(value[0])


def _null_mask(array: pa.Array) -> np.ndarray | None:
    if array.null_count == 0:
        return None
    return np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _fixed_words(array: pa.Array) -> list[np.ndarray]:
    """The value of each fixed-width cell as one or more uint64 words (NULL cells: zeros)."""
    kind = array.type
    if pa.types.is_boolean(kind):
        return [np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.uint64)]
    if pa.types.is_floating(kind):
        values = array.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        words = values.view(np.uint64).copy()
        words[np.isnan(values)] = _CANONICAL_NAN
        return [words]
    if pa.types.is_decimal(kind):
        width = kind.byte_width // 8
        raw = np.frombuffer(array.buffers()[1], dtype=np.uint64, count=(array.offset + len(array)) * width)
        cells = raw[array.offset * width :].reshape(len(array), width).copy()
        if (nulls := _null_mask(array)) is not None:
            cells[nulls] = 0
        return [cells[:, index] for index in range(width)]
    if pa.types.is_temporal(kind):
        array = array.view(pa.int32() if kind.bit_width == 32 else pa.int64())
    if pa.types.is_unsigned_integer(kind):
        return [array.cast(pa.uint64()).fill_null(0).to_numpy()]
    if pa.types.is_integer(array.type):
        return [array.cast(pa.int64()).fill_null(0).to_numpy().view(np.uint64)]
    raise TypeError(kind)


def _bytes_hash(array: pa.Array, seed: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """(length, lane hash of the bytes) per cell of a binary-like array; NULL cells count as empty."""
    array = array.cast(pa.large_binary())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64, count=array.offset + len(array) + 1)[array.offset :]
    lengths = np.diff(offsets).astype(np.int64)
    if (nulls := _null_mask(array)) is not None:
        lengths[nulls] = 0
    words_per_cell = (lengths + 7) // 8
    total_words = int(words_per_cell.sum())
    if total_words == 0:
        return lengths.astype(np.uint64), np.zeros(len(array), dtype=np.uint64)
    data = (
        np.frombuffer(array.buffers()[2], dtype=np.uint8) if array.buffers()[2] is not None else np.zeros(0, np.uint8)
    )
    # copy every cell's bytes to an 8-byte aligned slot (zero padded), then read them as uint64 words
    cell_of_byte = np.repeat(np.arange(len(array)), lengths)
    word_starts = np.concatenate(([0], np.cumsum(words_per_cell)[:-1])) * 8
    byte_rank = np.arange(len(cell_of_byte)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    padded = np.zeros(total_words * 8, dtype=np.uint8)
    padded[word_starts[cell_of_byte] + byte_rank] = data[offsets[:-1][cell_of_byte] + byte_rank]
    words = padded.view(np.uint64).copy()
    position = np.arange(total_words, dtype=np.uint64) - np.repeat((word_starts // 8).astype(np.uint64), words_per_cell)
    words ^= _mix(position * np.uint64(_GOLDEN) + seed)
    _mix(words)
    ends = np.cumsum(words_per_cell)
    running = np.cumsum(words, dtype=np.uint64)
    sums = np.where(ends > 0, running[np.maximum(ends - 1, 0)], 0).astype(np.uint64)
    before = np.concatenate(([np.uint64(0)], sums[:-1]))
    return lengths.astype(np.uint64), sums - before


def _plain(array: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(array.type):
        return array.dictionary_decode()
    if not (pa.types.is_binary(array.type) or pa.types.is_string(array.type)):
        if pa.types.is_large_binary(array.type) or pa.types.is_large_string(array.type):
            return array
        if pa.types.is_fixed_size_binary(array.type) or pa.types.is_binary_view(array.type):
            return array.cast(pa.large_binary())
        if pa.types.is_string_view(array.type):
            return array.cast(pa.large_string())
    return array


def _is_bytes(kind: pa.DataType) -> bool:
    return any(
        check(kind)
        for check in (pa.types.is_binary, pa.types.is_string, pa.types.is_large_binary, pa.types.is_large_string)
    )


def _structured_as_text(array: pa.Array) -> pa.Array:
    """Lists, structs, maps: each cell's Python value as text (exact, slower; Snowflake sends
    VARIANT/OBJECT/ARRAY as JSON text, so this is for other sources)."""
    return pa.array([None if v is None else repr(v) for v in array.to_pylist()], pa.large_string())


class _ColumnHasher:
    """Folds one column into the per-row lane states: ``state = (state ^ cell) * multiplier``, an odd
    multiplier per lane and column, so each step is a bijection in the cell and a row that differs
    in one value always gets another state. The states get the full mixer once, after the last column.

    A one-word value ``w`` enters both lanes as ``w``; NULL enters as ``null_0`` in lane 0 and ``null_1``
    in lane 1 with ``null_0 != null_1``: no value looks like NULL in both lanes. Longer values
    (decimals, text) are first reduced to one word per lane with the mixer."""

    def __init__(self, index: int) -> None:
        self._seeds = [_seed(lane, index, 1) for lane in _LANE_SEEDS]
        self._multipliers = [_seed(lane, index, 3) | np.uint64(1) for lane in _LANE_SEEDS]
        self._nulls = [_seed(index, 2) + np.uint64(lane) for lane in range(len(_LANE_SEEDS))]

    def fold(self, rows: list[np.ndarray], array: pa.Array) -> None:
        array = _plain(array)
        if pa.types.is_nested(array.type):
            array = _structured_as_text(array)
        nulls = np.ones(len(array), dtype=bool) if pa.types.is_null(array.type) else _null_mask(array)
        cells = self._bytes_cells(array) if _is_bytes(array.type) else self._fixed_cells(array)
        for row, cell, null, multiplier in zip(rows, cells, self._nulls, self._multipliers, strict=True):
            if nulls is not None:
                cell = cell.copy()
                cell[nulls] = null
            row ^= cell
            row *= multiplier

    def _fixed_cells(self, array: pa.Array) -> Iterator[np.ndarray]:
        if pa.types.is_null(array.type):
            yield from (np.zeros(len(array), dtype=np.uint64) for _ in self._seeds)
            return
        words = _fixed_words(array)
        if len(words) == 1:
            yield from (words[0] for _ in self._seeds)  # the same word in every lane (see the class doc)
            return
        for seed in self._seeds:
            cell = words[0] + seed
            for word in words[1:]:
                _mix(cell)
                cell ^= word
            yield _mix(cell)

    def _bytes_cells(self, array: pa.Array) -> Iterator[np.ndarray]:
        indices: np.ndarray | None = None
        if len(array) >= _DICTIONARY_MIN_ROWS:
            encoded = pc.dictionary_encode(array)
            if len(encoded.dictionary) * 2 <= len(array):  # repetitive text: hash each distinct value once
                array, indices = encoded.dictionary, encoded.indices.fill_null(0).to_numpy()
        for seed in self._seeds:
            lengths, content = _bytes_hash(array, seed)
            cell = _mix(lengths + seed)
            cell ^= content
            yield _mix(cell) if indices is None else _mix(cell)[indices]


def canonical_type(kind: pa.DataType) -> pa.DataType:
    """The type a column is hashed and written as: integers widened to 64 bits, dictionaries decoded."""
    if pa.types.is_dictionary(kind):
        return canonical_type(kind.value_type)
    if pa.types.is_unsigned_integer(kind):
        return pa.uint64()
    if pa.types.is_integer(kind):
        return pa.int64()
    return kind


def canonical_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, canonical_type(f.type), f.nullable) for f in schema])


class ContentDigest:
    """Accumulates batches; ``version(...)`` is 16 hex digits of SHA-256 over everything it saw."""

    def __init__(self) -> None:
        self.rows = 0
        self._sums = [0] * len(_LANE_SEEDS)
        self._schema: pa.Schema | None = None
        self._columns: list[_ColumnHasher] = []

    @property
    def schema(self) -> pa.Schema | None:
        return self._schema

    def update(self, batch: pa.RecordBatch) -> None:
        """Hashes ``batch``; every batch must have the schema of the first (``canonical_batch`` makes it so)."""
        schema = batch.schema.remove_metadata()
        if self._schema is None:
            self._schema = schema
            self._columns = [_ColumnHasher(index) for index in range(len(schema))]
        elif not schema.equals(self._schema):
            raise BootstrapError(
                f"the result's columns changed between batches ({self._schema} then {schema})",
                "re-run; if it persists, cast the columns explicitly in snowflake.query",
            )
        if batch.num_rows == 0:
            return
        rows = [np.full(batch.num_rows, _seed(lane, 0), dtype=np.uint64) for lane in _LANE_SEEDS]
        for hasher, column in zip(self._columns, batch.columns, strict=True):
            hasher.fold(rows, column)
        for lane, row in enumerate(rows):
            self._sums[lane] = (self._sums[lane] + int(_mix(row).sum(dtype=np.uint64))) & _MASK
        self.rows += batch.num_rows

    def version(self, *context: str) -> str:
        """16 hex digits over the format, ``context`` (e.g. the normalised query and the target), the
        schema, the row count and the lane sums."""
        sha = hashlib.sha256(FORMAT.encode())
        for part in context:
            sha.update(b"\0" + part.encode("utf-8"))
        fields = [] if self._schema is None else [f"{f.name}:{f.type}" for f in self._schema]
        sha.update(b"\0" + "\x1f".join(fields).encode("utf-8"))
        sha.update(f"\0{self.rows}:{self._sums[0]}:{self._sums[1]}".encode())
        return sha.hexdigest()[:16]


def canonical_batch(batch: pa.RecordBatch, schema: pa.Schema | None) -> pa.RecordBatch:
    """``batch`` with integer columns widened and dictionaries decoded; if ``schema`` (the first
    batch's canonical schema) is given, cast to it, so a column that is all NULL in one chunk
    (Arrow type ``null``) joins the others."""
    target = canonical_schema(batch.schema.remove_metadata()) if schema is None else schema
    if batch.schema.remove_metadata().equals(target):
        return batch.replace_schema_metadata(None)
    if batch.schema.names != target.names:
        raise BootstrapError(
            f"the result's columns changed between batches ({batch.schema.names} then {target.names})",
            "re-run; if it persists, list the columns explicitly in snowflake.query",
        )
    try:
        return pa.RecordBatch.from_arrays(
            [column.cast(field.type) for column, field in zip(batch.columns, target, strict=True)], schema=target
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise BootstrapError(
            f"a result batch does not fit the first batch's types ({str(error).splitlines()[0]})",
            "cast the columns explicitly in snowflake.query",
        ) from None
