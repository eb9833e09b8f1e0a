"""The warehouse fingerprint: one name for the same data, whichever engine imported it.

The two engines compute different versions of the same rows:

- ``stream``: the exact Arrow content version (``content_version``: a 128-bit multiset hash of every value
  as Arrow holds it, after widening), computed on our side while the rows stream through;
- ``unload``: the rows never reach us, so its version *is* the warehouse fingerprint below.

The fingerprint is computed in Snowflake: 16 hex digits of SHA-256 over a format tag, the normalised
query, the target (``<datastore>/<path_prefix>``), the result schema as Snowflake describes it
(``NAME:NUMBER(38,0)``, ...), ``COUNT(*)`` and ``HASH_AGG(*)`` over the query's result (a 64-bit hash of
the unordered rows; docs.snowflake.com/en/sql-reference/functions/hash_agg). Both engines stamp the
versions they register with it (tag ``warehouse_fingerprint``), and before writing anything each engine
looks for a version of the asset carrying its fingerprint and reuses it. So unchanged data imported by
``stream`` after ``unload`` (or the other way round) is found and made current again, never registered
as a second "current" version. A change the warehouse fingerprint cannot see (64-bit HASH_AGG, not a
cryptographic hash) is as unlikely as its collisions; the stream engine's own exact version still
catches any change between two stream imports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from data_bootstrap.publishing.assets import AssetRef, AssetRegistry
from data_bootstrap.publishing.layout import ImportTarget

FINGERPRINT_TAG = "warehouse_fingerprint"
FORMAT = "warehouse-fingerprint-1"


def warehouse_fingerprint(target: ImportTarget, *, schema: Sequence[tuple[str, str]], rows: int, row_hash: str) -> str:
    sha = hashlib.sha256(FORMAT.encode())
    for part in (*target.version_context(), "\x1f".join(f"{name}:{kind}" for name, kind in schema)):
        sha.update(b"\0" + part.encode("utf-8"))
    sha.update(f"\0{rows}:{row_hash}".encode())
    return sha.hexdigest()[:16]


def version_with_fingerprint(registry: AssetRegistry, target: ImportTarget, fingerprint: str) -> AssetRef | None:
    """A registered version of the asset, under the target's datastore, stamped with ``fingerprint``."""
    found = [
        ref
        for ref in registry.versions(target.asset_name)
        if ref.tags.get(FINGERPRINT_TAG) == fingerprint and f"/datastores/{target.datastore}/" in ref.path
    ]
    return min(found, key=lambda ref: ref.created_at, default=None)
