"""The data path shared by the Azure commands and the local rehearsal: what to import and how
to verify it. Nothing here talks to Azure ML, so the rehearsal does not pay for importing its SDK."""

# pandas ships no type information (no stubs in the lock)

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pandas as pd

from data_bootstrap.assets import AssetRef, AssetRegistry, current
from data_bootstrap.blob_sink import BlobSink
from data_bootstrap.errors import BootstrapError
from data_bootstrap.importer import read_manifest
from data_bootstrap.layout import ImportTarget, Manifest
from data_bootstrap.profile_report import write_profile_report
from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.snowflake_source import SnowflakeCoordinates
from data_bootstrap.verify import verify_frame, write_profile
from stacks.config import DataContractSection, EnvironmentConfig


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


def folder_problems(ref: AssetRef, manifest: Manifest | None, sink: BlobSink) -> list[str]:
    """The registered folder against its manifest, and the manifest against the version's rows tag."""
    if manifest is None:
        return [f"the registered folder {ref.folder}/ has no manifest (_COMPLETE): it is incomplete"]
    listing = {
        blob.name.rsplit("/", 1)[1]: blob.size
        for blob in sink.list_info(ref.folder + "/")
        if blob.name.count("/") == ref.folder.count("/") + 1
    }
    problems = [f"registered folder {ref.folder}/: {p}" for p in manifest.problems_with(listing)]
    tagged = ref.tags.get("rows")
    if tagged is not None and tagged != str(manifest.rows):
        problems.append(f"the version's rows tag says {tagged}, its manifest {manifest.rows:,}")
    return problems


def verify_asset(
    registry: AssetRegistry,
    *,
    name: str,
    sink: BlobSink,
    load: Callable[[AssetRef], pd.DataFrame],
    contract: DataContractSection,
    profile_dir: Path,
    out: TextIO,
    progress: ProgressPrinter,
) -> bool:
    """Loads the current version of ``name``, checks its folder against the manifest and the rows
    against the data contract, writes the JSON profile and the profile report.

    Shared by ``verify`` on Azure and the local rehearsal (``data_bootstrap.demo``)."""
    ref = current(registry, name)
    if ref is None:
        raise BootstrapError(f"data asset {name!r} is not registered", "run `python -m data_bootstrap apply` first")
    manifest = read_manifest(sink, ref.folder)
    problems = folder_problems(ref, manifest, sink)
    if manifest is None or any(problem.endswith(" is missing") for problem in problems):
        print(f"data asset {ref.name}:{ref.version} ({ref.path}): incomplete, not loaded", file=out)
        for problem in problems:  # loading an incomplete folder would only tell part of the story
            print(f"FAILED: {problem}", file=out)
        print(f"verify: {len(problems)} problem(s)", file=out)
        return False
    frame = load(ref)
    if manifest is not None and len(frame) != manifest.rows:
        problems.append(f"loaded {len(frame):,} rows, the manifest says {manifest.rows:,}")
    result = verify_frame(frame, contract, problems=problems)
    print(f"data asset {ref.name}:{ref.version} ({ref.path}): {result.rows:,} rows", file=out)
    print("head(10):", result.head, "describe():", result.describe, sep="\n", file=out)
    profile = write_profile(frame, result, directory=profile_dir, asset=ref.name, version=ref.version)
    print(f"profile written to {profile}", file=out)
    imported_types = dict(manifest.schema) if manifest is not None else None
    report = write_profile_report(
        frame,
        result,
        directory=profile_dir,
        asset=ref.name,
        version=ref.version,
        progress=progress,
        imported_types=imported_types,
    )
    print(f"profile report written to {report}", file=out)
    for problem in result.problems:
        print(f"FAILED: {problem}", file=out)
    print("verify: ok" if result.ok else f"verify: {len(result.problems)} problem(s)", file=out)
    return result.ok
