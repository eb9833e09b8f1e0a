"""The data path shared by the Azure commands and the local rehearsal: what to import and how
to verify it. Nothing here talks to Azure ML, so the rehearsal does not pay for importing its SDK."""

# pandas ships no type information (no stubs in the lock)

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pandas as pd

from data_bootstrap.assets import AssetRef, AssetRegistry
from data_bootstrap.errors import BootstrapError
from data_bootstrap.importer import ImportTarget
from data_bootstrap.profile_report import write_profile_report
from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.snowflake_source import SnowflakeCoordinates
from data_bootstrap.verify import verify_frame, write_profile
from stacks.config import EnvironmentConfig


def snowflake_coordinates(config: EnvironmentConfig) -> SnowflakeCoordinates:
    s = config.snowflake
    return SnowflakeCoordinates(
        account=s.account, user=s.user, role=s.role, warehouse=s.warehouse, database=s.database, schema=s.schema
    )


def import_target(config: EnvironmentConfig) -> ImportTarget:
    a = config.data_asset
    return ImportTarget(
        asset_name=a.name, datastore=a.datastore, path_prefix=a.path_prefix, query=config.snowflake.query
    )


def verify_asset(
    registry: AssetRegistry,
    *,
    name: str,
    load: Callable[[AssetRef], pd.DataFrame],
    profile_dir: Path,
    out: TextIO,
    progress: ProgressPrinter,
) -> bool:
    """Loads the latest version of ``name``, checks it, writes the JSON profile and the profile report.

    Shared by ``verify`` on Azure and the local rehearsal (``data_bootstrap.demo``)."""
    ref = registry.latest(name)
    if ref is None:
        raise BootstrapError(f"data asset {name!r} is not registered", "run `python -m data_bootstrap apply` first")
    frame = load(ref)
    result = verify_frame(frame)
    print(f"data asset {ref.name}:{ref.version} ({ref.path}): {result.rows:,} rows", file=out)
    print("head(10):", result.head, "describe():", result.describe, sep="\n", file=out)
    profile = write_profile(frame, result, directory=profile_dir, asset=ref.name, version=ref.version)
    print(f"profile written to {profile}", file=out)
    report = write_profile_report(
        frame, result, directory=profile_dir, asset=ref.name, version=ref.version, progress=progress
    )
    print(f"profile report written to {report}", file=out)
    for problem in result.problems:
        print(f"FAILED: {problem}", file=out)
    print("verify: ok" if result.ok else f"verify: {len(result.problems)} problem(s)", file=out)
    return result.ok
