"""Order-insensitive content digest of a stream of Arrow batches.

Snowflake does not promise row order without ORDER BY, nor batch boundaries, so the version
must not depend on either: each row gets two independent 64-bit hashes (pandas' vectorised
SipHash) and the digest sums them modulo 2**64 (a multiset hash), then folds in the query,
the schema and the row count with SHA-256.
"""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa

_KEYS = ("globorealty-rows", "raw-house-data-2")
_MASK = (1 << 64) - 1


class ContentDigest:
    def __init__(self) -> None:
        self.rows = 0
        self._sums = [0, 0]
        self._schema: pa.Schema | None = None

    def update(self, batch: pa.RecordBatch) -> None:
        if self._schema is None:
            self._schema = batch.schema.remove_metadata()
        if batch.num_rows == 0:
            return
        frame = batch.to_pandas()
        for index, key in enumerate(_KEYS):
            hashes = pd.util.hash_pandas_object(frame, index=False, hash_key=key.ljust(16)[:16]).to_numpy(np.uint64)
            self._sums[index] = (self._sums[index] + int(hashes.sum(dtype=np.uint64))) & _MASK
        self.rows += batch.num_rows

    def version(self, query: str) -> str:
        """A 16-hex-digit version string for query + content."""
        sha = hashlib.sha256()
        sha.update(" ".join(query.split()).encode("utf-8"))
        schema = self._schema
        fields = [] if schema is None else [f"{f.name}:{f.type}" for f in schema]
        sha.update("|".join(fields).encode("utf-8"))
        sha.update(f"{self.rows}:{self._sums[0]}:{self._sums[1]}".encode())
        return sha.hexdigest()[:16]
