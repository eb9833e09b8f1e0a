"""Synth benchmark: stock vs fast binding load, alternating fresh processes.

    python -m benchmarks.synth_bench [--runs N] [--env dev]

Each run is `main.py` in a new process, exactly like `make synth`; wall time is
measured around the process; CPU time (user + system) and peak RSS (the largest
resident set in its process tree: python or the node jsii runtime) are what
wait4() reports for it and the children it waited for. CPU seconds move far less
than wall seconds when other jobs share the machine.
Modes: `stock` (the binding's own Python __init__ and Node lib/index.js),
`fast` (only the submodules used, on both sides), both on the Node main.py
picks; where that is the project-local Node 24 and the machine's Node is older,
`fast-node<N>` runs the fast path on the machine's Node too (JSII_NODE).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from stacks.binding_loader import LOCAL_NODE_BIN

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float


def node_major(node: str) -> int:
    version = subprocess.run([node, "-p", "process.versions.node"], capture_output=True, text=True, check=True)
    return int(version.stdout.split(".")[0])


def modes() -> dict[str, dict[str, str]]:
    """Mode name -> environment it adds to the run."""
    found = {"stock": {"CDKTF_BINDING_IMPORT": "stock"}, "fast": {"CDKTF_BINDING_IMPORT": "fast"}}
    machine = shutil.which("node", path=os.environ.get("PATH", "").replace(f"{LOCAL_NODE_BIN}{os.pathsep}", ""))
    if (LOCAL_NODE_BIN / "node").is_file() and machine and (major := node_major(machine)) < 22:
        found[f"fast-node{major}"] = {"CDKTF_BINDING_IMPORT": "fast", "JSII_NODE": machine}
    return found


def synth_once(settings: dict[str, str], environments: str, outdir: Path) -> Run:
    env = dict(os.environ, PLATFORM_ENV=environments, CDKTF_OUTDIR=str(outdir), **settings)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "main.py")], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"error: synth failed: {process.stderr.read().decode() if process.stderr else ''}")
    return Run(seconds=seconds, cpu_seconds=usage.ru_utime + usage.ru_stime, peak_rss_mb=usage.ru_maxrss / 1024)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per mode (default 5)")
    parser.add_argument("--env", default="dev", help="environments to synthesize (default dev)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    variants = modes()
    results: dict[str, list[Run]] = {mode: [] for mode in variants}
    with tempfile.TemporaryDirectory() as scratch:
        outputs = {mode: Path(scratch) / mode for mode in variants}
        for index in range(args.runs):
            for mode, settings in variants.items():  # alternate, so drift on a noisy machine hits all alike
                results[mode].append(synth_once(settings, args.env, outputs[mode]))
                print(f"run {index + 1}/{args.runs} {mode:11s} {results[mode][-1].seconds:6.2f} s", file=sys.stderr)
        identical = all(
            (outputs[mode] / p.relative_to(outputs["stock"])).read_bytes() == p.read_bytes()
            for p in outputs["stock"].rglob("cdk.tf.json")
            for mode in variants
        )
    node = shutil.which("node", path=f"{LOCAL_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}") or "node"
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Node {node_major(node)} ({node}), environments: {args.env}, runs per mode: {args.runs}"
    )
    print(f"{'mode':11s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'median CPU s':>13s} {'peak RSS MB':>12s}")
    medians, cpu_medians = {}, {}
    for mode, runs in results.items():
        seconds = [r.seconds for r in runs]
        medians[mode], cpu_medians[mode] = statistics.median(seconds), statistics.median(r.cpu_seconds for r in runs)
        peak = max(r.peak_rss_mb for r in runs)
        print(
            f"{mode:11s} {medians[mode]:9.2f} {min(seconds):7.2f} {max(seconds):7.2f} "
            f"{cpu_medians[mode]:13.2f} {peak:12.0f}"
        )
    print(
        f"speed-up (stock median / fast median): {medians['stock'] / medians['fast']:.1f}x wall, "
        f"{cpu_medians['stock'] / cpu_medians['fast']:.1f}x CPU; outputs byte-identical: {'yes' if identical else 'NO'}"
    )
    print(f"load average at the end: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
