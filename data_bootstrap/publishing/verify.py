"""Verification of a registered data asset, shared by ``verify`` on Azure and the local rehearsal:
its folder against the manifest, the loaded rows against the data contract (the one ``apply``
enforced before registering), printed compactly, plus the JSON profile and the profile report.
Nothing here talks to Azure ML, so the rehearsal does not pay for importing its SDK."""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from data_bootstrap.azure.blob_sink import BlobSink
from data_bootstrap.errors import BootstrapError
from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.publishing.assets import AssetRef, AssetRegistry, current
from data_bootstrap.publishing.contract import check_table, frame_to_arrow
from data_bootstrap.publishing.layout import Manifest
from data_bootstrap.publishing.profile_report import write_profile_report
from data_bootstrap.publishing.publish import read_manifest
from stacks.config import DataContractSection

CELL_WIDTH = 40  # characters per printed cell: a 1 MB string must not flood the terminal


@dataclass(frozen=True, kw_only=True)
class VerifyResult:
    rows: int
    problems: list[str] = field(default_factory=list)
    head: str = ""
    describe: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def numeric_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal columns (Snowflake NUMBER(p,s) arrives as Python Decimals, dtype object) as floats, for statistics."""
    decimal = [
        column
        for column in frame.columns
        if frame[column].dtype == object
        and len(values := frame[column].dropna())
        and all(isinstance(value, Decimal) for value in values)
    ]
    return frame.astype(dict.fromkeys(decimal, "float64")) if decimal else frame


def verify_frame(
    frame: pd.DataFrame, contract: DataContractSection, *, problems: list[str] | None = None
) -> VerifyResult:
    """``problems`` are found elsewhere (the folder, the manifest) and reported with the contract's."""
    table, typing_problems = frame_to_arrow(frame)
    found = [*(problems or []), *typing_problems, *check_table(table, contract)]
    with (
        pd.option_context("display.width", 160, "display.max_columns", 20, "display.max_colwidth", CELL_WIDTH),
        warnings.catch_warnings(),
        np.errstate(all="ignore"),
    ):
        warnings.simplefilter("ignore", RuntimeWarning)  # describe() over NaN/inf: the numbers are still right
        head = frame.head(10).to_string(max_colwidth=CELL_WIDTH)
        describe = numeric_view(frame).describe(include="all").to_string(max_colwidth=CELL_WIDTH) if len(frame) else ""
    return VerifyResult(rows=len(frame), problems=found, head=head, describe=describe)


def write_profile(frame: pd.DataFrame, result: VerifyResult, *, directory: Path, asset: str, version: str) -> Path:
    """A small JSON data profile (dtypes, nulls, numeric summary) next to the verify verdict."""
    directory.mkdir(parents=True, exist_ok=True)
    numeric = numeric_view(frame).select_dtypes("number")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        summary = json.loads(numeric.describe().to_json()) if len(numeric.columns) else {}
    profile = {
        "asset": asset,
        "version": version,
        "rows": result.rows,
        "ok": result.ok,
        "problems": result.problems,
        "columns": {str(c): {"dtype": str(frame[c].dtype), "nulls": int(frame[c].isna().sum())} for c in frame.columns},
        "numeric_summary": summary,
    }
    path = directory / f"{asset}-{version}.json"
    path.write_text(json.dumps(profile, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


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

    Shared by ``verify`` on Azure and the local rehearsal (``data_bootstrap.rehearsal.demo``)."""
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
