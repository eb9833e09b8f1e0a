"""Synth benchmark: stock vs fast azurerm binding import, alternating fresh processes.

    python -m benchmarks.synth_bench [--runs N] [--env dev]

Each run is `main.py` in a new process, exactly like `make synth`; wall time is
measured around the process, peak RSS is the largest resident set in its
process tree (python or the node jsii runtime) as reported by wait4().
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODES = ("stock", "fast")


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float


def synth_once(mode: str, environments: str, outdir: Path) -> Run:
    env = dict(
        os.environ,
        PLATFORM_ENV=environments,
        CDKTF_OUTDIR=str(outdir),
        CDKTF_BINDING_IMPORT=mode,
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "main.py")], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"error: {mode} synth failed: {process.stderr.read().decode() if process.stderr else ''}")
    return Run(seconds=seconds, peak_rss_mb=usage.ru_maxrss / 1024)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per mode (default 5)")
    parser.add_argument("--env", default="dev", help="environments to synthesize (default dev)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    results: dict[str, list[Run]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as scratch:
        outputs = {mode: Path(scratch) / mode for mode in MODES}
        for index in range(args.runs):
            for mode in MODES:  # alternate, so drift on a noisy machine hits both alike
                results[mode].append(synth_once(mode, args.env, outputs[mode]))
                print(f"run {index + 1}/{args.runs} {mode:5s} {results[mode][-1].seconds:6.2f} s", file=sys.stderr)
        identical = all(
            (outputs["fast"] / p.relative_to(outputs["stock"])).read_bytes() == p.read_bytes()
            for p in outputs["stock"].rglob("cdk.tf.json")
        )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"environments: {args.env}, runs per mode: {args.runs}"
    )
    print(f"{'import':8s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'peak RSS MB':>12s}")
    medians = {}
    for mode, runs in results.items():
        seconds = [r.seconds for r in runs]
        medians[mode] = statistics.median(seconds)
        peak = max(r.peak_rss_mb for r in runs)
        print(f"{mode:8s} {medians[mode]:9.2f} {min(seconds):7.2f} {max(seconds):7.2f} {peak:12.0f}")
    print(
        f"speed-up (stock median / fast median): {medians['stock'] / medians['fast']:.1f}x; "
        f"outputs byte-identical: {'yes' if identical else 'NO'}"
    )
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
