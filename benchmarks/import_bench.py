"""Import benchmark: synthetic rows through fakesnow + Azurite + the local asset catalog.

    python -m benchmarks.import_bench --compare stream,unload [--sizes 1000000]   (make bench-import)
    python -m benchmarks.import_bench [--sizes 100000,1000000]                    (make bench-import-stages)

``--compare``: per engine, ``--repeat`` imports through the engine interface (``import_with``, what the
demo runs; the ``unload`` engine runs against its local stand-in, so it measures our side plus fakesnow,
not Snowflake's parallel unload), each in a new process into a fresh container and catalog; prints each
engine's median and the ratio of the medians.

Without ``--compare``, the stream engine's stages:
per size the emulators start fresh and are seeded; then the import (the code `data_bootstrap apply`
runs: Snowflake source -> Parquet spill with content version and contract check -> blob upload ->
registration) runs ``--repeat`` times (default 3, each into a fresh container and catalog) in new
processes whose peak RSS comes from wait4(); the table shows the median run (by import time) and
the median of each stage. The ceiling is a plain pyarrow Parquet write (zstd) of the same table,
also in a fresh process. fakesnow's own peak RSS (VmHWM) is reported separately: it is the emulator,
not our code.
"""

# pyarrow ships no type information (no stubs in the lock)

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from stacks.config import ImportEngine as EngineName

REPO = Path(__file__).resolve().parents[1]
STAGES = ("query", "hash", "parquet", "upload", "register")
TARGET_ROWS_PER_S = 1_500_000
PAGE_ROWS = 100_000
# import modes: the one query production runs, and the same rows as LIMIT/OFFSET pages (see ``paged``)
MODES = {"one query": 0, f"{PAGE_ROWS // 1000}k pages": PAGE_ROWS}
MB = 1_000_000


@dataclass(frozen=True, kw_only=True)
class Measured:
    report: dict[str, Any]
    peak_rss_mb: float


def run_child(arguments: list[str]) -> Measured:
    """Runs this module with ``arguments`` in a fresh process; its JSON report and peak RSS."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.import_bench", *arguments], cwd=REPO, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"error: benchmark child {' '.join(arguments)} failed")
    return Measured(report=json.loads(output), peak_rss_mb=usage.ru_maxrss / 1024)


class Stopwatch:
    """Seconds spent inside an iterator's ``next`` (the Snowflake query and fetch)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.nbytes = 0

    def wrap(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        while True:
            started = time.perf_counter()
            batch = next(batches, None)
            self.seconds += time.perf_counter() - started
            if batch is None:
                return
            self.nbytes += batch.nbytes
            yield batch


def paged(
    source_for: Callable[[str], Iterator[pa.RecordBatch]], query: str, page_rows: int
) -> Iterator[pa.RecordBatch]:
    """The result as a sequence of ``LIMIT``/``OFFSET`` queries (ordered by ID), until a page comes back short:
    the investigation of fakesnow's single result chunk, not how production reads."""
    offset = 0
    while True:
        rows = 0
        for batch in source_for(f"SELECT * FROM ({query}) ORDER BY ID LIMIT {page_rows} OFFSET {offset}"):
            rows += batch.num_rows
            yield batch
        if rows < page_rows:
            return
        offset += page_rows


def child_import(args: argparse.Namespace) -> dict[str, Any]:
    from data_bootstrap.azure.blob_sink import BlobSink
    from data_bootstrap.engines import stream
    from data_bootstrap.progress import ProgressPrinter
    from data_bootstrap.publishing.assets import AssetRef
    from data_bootstrap.publishing.content_version import ContentDigest
    from data_bootstrap.publishing.layout import import_target
    from data_bootstrap.publishing.publish import publish
    from data_bootstrap.rehearsal.demo import ephemeral_key_der, raw_container
    from data_bootstrap.rehearsal.emulators import AzuriteBlob, FakesnowServer
    from data_bootstrap.rehearsal.local_catalog import LocalAssetCatalog
    from data_bootstrap.settings import REPO_ROOT, load_config
    from data_bootstrap.snowflake.source import SnowflakeParams, SnowflakeSource, snowflake_coordinates

    config = load_config(REPO_ROOT / "config" / "dev.toml", env="dev")
    snow, blob = FakesnowServer(port=args.snow_port, pid=0), AzuriteBlob(port=args.blob_port, pid=0)
    params = SnowflakeParams(
        coordinates=snowflake_coordinates(config), private_key_der=ephemeral_key_der(), extra=snow.connect_args()
    )
    target = import_target(config)
    register_seconds = hash_seconds = 0.0

    class TimedDigest(ContentDigest):
        def update(self, batch: pa.RecordBatch) -> None:
            nonlocal hash_seconds
            started = time.perf_counter()
            super().update(batch)
            hash_seconds += time.perf_counter() - started

    setattr(stream, "ContentDigest", TimedDigest)  # noqa: B010 (patched in this child process only)
    parquet_seconds = 0.0

    class TimedWriter(pq.ParquetWriter):  # type: ignore[misc]
        def write_batch(self, batch: pa.RecordBatch, row_group_size: int | None = None) -> None:
            nonlocal parquet_seconds
            started = time.perf_counter()
            super().write_batch(batch, row_group_size)
            parquet_seconds += time.perf_counter() - started

        def close(self) -> None:
            nonlocal parquet_seconds
            started = time.perf_counter()
            super().close()
            parquet_seconds += time.perf_counter() - started

    setattr(pq, "ParquetWriter", TimedWriter)  # noqa: B010 (this child process only)

    class TimedCatalog(LocalAssetCatalog):
        def register(self, ref: AssetRef, *, description: str, tags: dict[str, str]) -> None:
            nonlocal register_seconds
            started = time.perf_counter()
            super().register(ref, description=description, tags=tags)
            register_seconds += time.perf_counter() - started

    workdir = Path(args.workdir)
    catalog = TimedCatalog(path=workdir / "catalog.json")
    sink = BlobSink(container=raw_container(blob.connection_string, args.container))
    progress = ProgressPrinter()
    watch = Stopwatch()
    started = time.perf_counter()

    def source_for(query: str) -> Iterator[pa.RecordBatch]:
        return SnowflakeSource(params=params, query=query).batches()

    batches = paged(source_for, target.query, args.page_rows) if args.page_rows else source_for(target.query)
    spill = stream.spill_to_parquet(
        watch.wrap(batches), workdir=workdir, target=target, contract=config.data_contract, progress=progress
    )
    spilled = time.perf_counter()
    result = publish(spill.prepared(), target=target, sink=sink, registry=catalog, progress=progress)
    finished = time.perf_counter()
    assert result.created and result.rows == args.rows, result
    stages = {
        "query": watch.seconds,
        "hash": hash_seconds,  # in a worker thread, alongside the Parquet writer
        "parquet": parquet_seconds,
        "upload": finished - spilled - register_seconds,
        "register": register_seconds,
    }
    report = {
        "rows": result.rows,
        "seconds": finished - started,
        "ours": finished - started - watch.seconds,  # wall time of everything but the query
        "arrow_bytes": watch.nbytes,
        "stages": stages,
    }
    return {**report, "version": result.asset.version}


def child_engine(args: argparse.Namespace) -> dict[str, Any]:
    """One import through the engine interface, as the demo runs it; wall time of the import only."""
    from data_bootstrap.azure.blob_sink import BlobSink
    from data_bootstrap.progress import ProgressPrinter
    from data_bootstrap.publishing.publish import import_with
    from data_bootstrap.rehearsal.demo import demo_config, local_job, raw_container, rehearsal_engine
    from data_bootstrap.rehearsal.emulators import AzuriteBlob, FakesnowServer
    from data_bootstrap.rehearsal.local_catalog import LocalAssetCatalog
    from data_bootstrap.settings import REPO_ROOT

    workdir = Path(args.workdir)
    config, _ = demo_config(REPO_ROOT / "config" / "dev.toml", env="dev", engine=args.engine, state=workdir)
    snow, blob = FakesnowServer(port=args.snow_port, pid=0), AzuriteBlob(port=args.blob_port, pid=0)
    sink = BlobSink(container=raw_container(blob.connection_string, args.container))
    progress = ProgressPrinter()
    engine, job = rehearsal_engine(config, progress=progress), local_job(config, snow=snow, sink=sink, scratch=workdir)
    catalog = LocalAssetCatalog(path=workdir / "catalog.json")
    started = time.perf_counter()
    result = import_with(engine, job, registry=catalog, progress=progress, workdir=workdir)
    seconds = time.perf_counter() - started
    assert result.created and result.rows == args.rows, result
    return {"engine": engine.name, "rows": result.rows, "seconds": seconds, "version": result.asset.version}


def child_ceiling(args: argparse.Namespace) -> dict[str, Any]:
    from data_bootstrap.rehearsal.synthetic import house_price_batches

    table = pa.concat_tables(house_price_batches(args.rows, seed=args.seed))
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        pq.write_table(table, Path(scratch) / "ceiling.parquet", compression="zstd")
        seconds = time.perf_counter() - started
    return {"rows": table.num_rows, "seconds": seconds, "arrow_bytes": table.nbytes}


def peak_rss_of(pid: int) -> float:
    """VmHWM (peak resident set) of a running process, in MB (MiB, like ru_maxrss / 1024)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def median_run(runs: list[Measured]) -> Measured:
    """The run with the median import time, its stages replaced by each stage's median over the runs."""
    ordered = sorted(runs, key=lambda run: run.report["seconds"])
    middle = ordered[len(ordered) // 2]
    stages = {name: statistics.median(run.report["stages"][name] for run in runs) for name in STAGES}
    ours = statistics.median(run.report["ours"] for run in runs)
    versions = {run.report["version"] for run in runs}
    version = middle.report["version"] if len(versions) == 1 else "differs"
    report = {**middle.report, "stages": stages, "ours": ours, "version": version}
    return Measured(report={**report, "repeats": len(runs)}, peak_rss_mb=middle.peak_rss_mb)


def measure_size(rows: int, seed: int, repeats: int) -> dict[str, Any]:
    from data_bootstrap.progress import ProgressPrinter
    from data_bootstrap.rehearsal.demo import seed_table, seed_table_name
    from data_bootstrap.rehearsal.emulators import local_emulators
    from data_bootstrap.settings import REPO_ROOT, load_config

    config = load_config(REPO_ROOT / "config" / "dev.toml", env="dev")
    with tempfile.TemporaryDirectory(prefix="import-bench-") as scratch:
        work = Path(scratch)
        with local_emulators(azurite_location=work / "azurite") as (snow, blob):
            started = time.perf_counter()
            table = seed_table_name(config)
            seed_table(snow, table=table, rows=rows, seed=seed, scratch=work, progress=ProgressPrinter())
            seeding = time.perf_counter() - started
            emulator_base = peak_rss_of(snow.pid)
            imports = {}
            for mode, page_rows in MODES.items():
                runs = []
                for repeat in range(repeats):
                    workdir = work / f"{mode}-{repeat}"
                    workdir.mkdir()
                    runs.append(run_child(
                        ["--child-import", "--rows", str(rows), "--snow-port", str(snow.port),
                         "--blob-port", str(blob.port), "--workdir", str(workdir), "--page-rows", str(page_rows),
                         "--container", f"rawdata-{page_rows}-{repeat}"]
                    ))  # fmt: skip
                imports[mode] = median_run(runs)
            emulator_peak = peak_rss_of(snow.pid)
    ceiling = run_child(["--child-ceiling", "--rows", str(rows), "--seed", str(seed)])
    return {
        "rows": rows,
        "seeding_s": seeding,
        "imports": imports,
        "ceiling": ceiling,
        "fakesnow_rss_mb": (emulator_base, emulator_peak),
    }


def compare_engines(rows: int, seed: int, repeats: int, engines: list[EngineName]) -> dict[str, list[Measured]]:
    """Seeds once, then ``repeats`` imports per engine, alternating engines so load drifts hit both alike."""
    from data_bootstrap.engines import engine_for
    from data_bootstrap.progress import ProgressPrinter
    from data_bootstrap.rehearsal.demo import demo_config, seed_table, seed_table_name
    from data_bootstrap.rehearsal.emulators import local_emulators
    from data_bootstrap.settings import REPO_ROOT, load_config

    config = load_config(REPO_ROOT / "config" / "dev.toml", env="dev")
    runs: dict[str, list[Measured]] = {engine: [] for engine in engines}
    with tempfile.TemporaryDirectory(prefix="import-bench-") as scratch:
        work = Path(scratch)
        for engine in engines:  # an engine this build lacks fails in one line before seeding
            engine_for(demo_config(REPO_ROOT / "config" / "dev.toml", env="dev", engine=engine, state=work)[0])
        with local_emulators(azurite_location=work / "azurite") as (snow, blob):
            seed_table(
                snow, table=seed_table_name(config), rows=rows, seed=seed, scratch=work, progress=ProgressPrinter()
            )
            for repeat in range(repeats):
                for engine in engines:
                    workdir = work / f"{engine}-{repeat}"
                    workdir.mkdir()
                    runs[engine].append(run_child(
                        ["--child-engine", engine, "--rows", str(rows), "--snow-port", str(snow.port),
                         "--blob-port", str(blob.port), "--workdir", str(workdir),
                         "--container", f"rawdata-{engine}-{repeat}"]
                    ))  # fmt: skip
    return runs


def render_comparison(rows: int, runs: dict[str, list[Measured]]) -> str:
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"pyarrow {pa.__version__}; whole import (preflight, prepare, publish), seeding not counted",
        f"{'engine':>8s} {'rows':>10s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'rows/s':>10s} "
        f"{'peak RSS MB':>12s}  version",
    ]
    medians = {}
    for engine, measured in runs.items():
        seconds = [m.report["seconds"] for m in measured]
        medians[engine] = statistics.median(seconds)
        rss = statistics.median(m.peak_rss_mb for m in measured)
        versions = {m.report["version"] for m in measured}
        lines.append(
            f"{engine:>8s} {rows:>10,} {medians[engine]:9.2f} {min(seconds):7.2f} {max(seconds):7.2f} "
            f"{rows / medians[engine]:10,.0f} {rss:12.0f}  {versions.pop() if len(versions) == 1 else 'differs'}"
        )
    lines.append(f"median of {len(next(iter(runs.values())))} runs per engine")
    if len(medians) == 2:
        (first, a), (second, b) = medians.items()
        lines.append(f"ratio of medians {second} / {first}: {b / a:.2f}x")
    return "\n".join(lines)


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"pyarrow {pa.__version__}; MB/s = Arrow (in-memory) MB of the result per second",
        f"{'rows':>9s} {'import':>10s} {'s':>6s} {'rows/s':>9s} {'MB/s':>6s} {'peak RSS MB':>12s} {'of ceiling':>11s}",
    ]
    for r in results:
        ceiling = r["ceiling"].report
        ceiling_rate = ceiling["rows"] / ceiling["seconds"]
        for mode, measured in [*r["imports"].items(), ("ceiling", r["ceiling"])]:
            report = measured.report
            rate = report["rows"] / report["seconds"]
            lines.append(
                f"{r['rows']:>9,} {mode:>10s} {report['seconds']:6.2f} {rate:9,.0f} "
                f"{report['arrow_bytes'] / MB / report['seconds']:6.1f} {measured.peak_rss_mb:12.0f} "
                f"{rate / ceiling_rate:11.1%}"
            )
        versions = {m.report["version"] for m in r["imports"].values()}
        base, peak = r["fakesnow_rss_mb"]
        lines.append(
            f"{'':>9s} same content version in every mode: {'yes' if len(versions) == 1 else 'NO'}; "
            f"fakesnow peak RSS {base:.0f} MB after seeding, {peak:.0f} MB after the imports; "
            f"seeding took {r['seeding_s']:.1f} s (not counted)"
        )
    lines.append(
        "share of import time per stage (query = connect + execute + fetch; hash = content version, in a worker "
        "thread alongside parquet, so shares can add up to more than 100%):"
    )
    for r in results:
        for mode, measured in r["imports"].items():
            stages, total = measured.report["stages"], measured.report["seconds"]
            shares = ", ".join(f"{name} {stages[name] / total:.0%} ({stages[name]:.2f} s)" for name in STAGES)
            lines.append(f"  {r['rows']:>9,} {mode:>10s}: {shares}")
    lines.append(
        "our side (wall time of hash + contract + parquet + upload + register: the import minus the query), "
        f"median of {results[0]['imports']['one query'].report['repeats']}:"
    )
    for r in results:
        for mode, measured in r["imports"].items():
            ours = measured.report["ours"]
            rate = measured.report["rows"] / ours
            verdict = "met" if rate >= TARGET_ROWS_PER_S else "NOT met"
            lines.append(
                f"  {r['rows']:>9,} {mode:>10s}: {ours:.2f} s, {rate:,.0f} rows/s "
                f"(target >= {TARGET_ROWS_PER_S:,} rows/s at 1,000,000 rows: {verdict})"
            )
    if len(results) > 1:
        small, large = results[0], results[-1]
        for mode in MODES:
            ratio = large["imports"][mode].peak_rss_mb / small["imports"][mode].peak_rss_mb
            verdict = "met" if ratio <= 1.5 else "NOT met"
            lines.append(
                f"peak RSS {large['rows']:,} / {small['rows']:,} rows, {mode}: {ratio:.2f}x (target <= 1.5x: {verdict})"
            )
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    top.add_argument("--sizes", help="comma-separated row counts (default 100000,1000000; 1000000 with --compare)")
    top.add_argument("--seed", type=int, default=42, help="synthetic data seed")
    top.add_argument("--repeat", type=int, default=3, help="imports per size and mode; the median is shown (default 3)")
    top.add_argument(
        "--compare",
        metavar="ENGINES",
        help="comma-separated import engines (stream, unload) to time against each other through the engine "
        "interface; --sizes then defaults to 1000000",
    )
    # internal: what the fresh child processes run
    for flag in ("--child-import", "--child-ceiling"):
        top.add_argument(flag, action="store_true", help=argparse.SUPPRESS)
    for option in ("--rows", "--snow-port", "--blob-port", "--page-rows"):
        top.add_argument(option, type=int, help=argparse.SUPPRESS)
    top.add_argument("--child-engine", dest="engine", help=argparse.SUPPRESS)
    top.add_argument("--workdir", help=argparse.SUPPRESS)
    top.add_argument("--container", default="rawdata", help=argparse.SUPPRESS)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.child_import or args.child_ceiling or args.engine:
        child = child_engine if args.engine else child_import if args.child_import else child_ceiling
        print(json.dumps(child(args)))
        return 0
    text = args.sizes or ("1000000" if args.compare else "100000,1000000")
    try:
        sizes = [int(size) for size in text.split(",")]
    except ValueError:
        parser().error(f"--sizes {text!r}: expected comma-separated whole numbers, e.g. 100000,1000000")
    if args.compare:
        from data_bootstrap.engines import ENGINES

        named = [engine.strip() for engine in args.compare.split(",")]
        if unknown := [engine for engine in named if engine not in ENGINES]:
            parser().error(f"--compare {args.compare!r}: {', '.join(unknown)} is not one of {', '.join(ENGINES)}")
        by_name: dict[str, EngineName] = {engine: engine for engine in ENGINES}
        engines = [by_name[engine] for engine in named]
        if len(set(engines)) != len(engines):
            parser().error(f"--compare {args.compare!r}: name each engine once")
        from data_bootstrap.errors import BootstrapError

        for rows in sizes:
            print(f"comparing {', '.join(engines)} on {rows:,} rows", file=sys.stderr)
            try:
                runs = compare_engines(rows, args.seed, max(1, args.repeat), engines)
            except BootstrapError as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
            print(render_comparison(rows, runs))
        return 0
    results = []
    for rows in sizes:
        print(f"measuring {rows:,} rows", file=sys.stderr)
        results.append(measure_size(rows, args.seed, max(1, args.repeat)))
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
