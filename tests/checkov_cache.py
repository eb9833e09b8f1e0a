"""checkov with a result cache, for the suite only; and the one way tests run the checkov gate.

The suite runs the gate (policy/checkov_gate.py) on four sets of stacks (both lanes' real stacks
and two negative cases), and each checkov run costs 4-9 CPU s, most of it importing checkov's ~4,100
modules: a quarter of a warm suite's CPU time before this cache. checkov's report is decided by
the installed checkov, its arguments and the bytes of the files it scans, so those are the key: a
later run with the same key replays the stored report (exit code, stdout, stderr) instead of
scanning again, and any change to a scanned file, the arguments or the checkov installation (each
installed distribution's RECORD lists its files with their hashes) scans afresh. What the gate does
with the report (mapping, waivers, problems) always runs. Like the synthesis cache
(tests/conftest.py) it lives in pytest's cache folder; `TEST_CACHE=off` or `pytest --cache-clear`
turns it off, and a fresh clone always scans.

Run as a program (the gate's ``--checkov``, through the launcher ``gate_command`` writes), it stands
in for checkov: ``CHECKOV_REAL`` names the real one, ``CHECKOV_CACHE_DIR`` the cache folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"
# The scanned folder's path is part of checkov's report (file_abs_path); stored reports hold this
# instead, so a report made for one temporary folder serves the same files in another.
SCANNED = "@@SCANNED_DIR@@"
KEEP_ENTRIES = 16  # the newest reports kept (a warm suite needs five)


def cache_key(real: Path, args: list[str], scanned: Path) -> str:
    digest = hashlib.sha256(str(real).encode() + b"\0")
    # checkov's own files and its dependencies' (the install pins checkov only): every installed
    # distribution's RECORD, which lists each of its files with a hash.
    for record in sorted(real.parent.parent.glob("lib/python*/site-packages/*.dist-info/RECORD")):
        digest.update(record.read_bytes())
    digest.update("\0".join(SCANNED if arg == str(scanned) else arg for arg in args).encode() + b"\0")
    for path in sorted(scanned.rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(scanned)}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _scanned_dir(args: list[str]) -> Path:
    if args.count("-d") != 1 or args.index("-d") + 1 >= len(args):
        raise SystemExit(f"error: tests/checkov_cache.py expects one `-d FOLDER` among {args}")
    return Path(args[args.index("-d") + 1])


def _store(cache: Path, key: str, entry: dict[str, object]) -> None:
    """Write the entry whole or not at all (a parallel worker may store the same key), then prune."""
    scratch = cache / f".{key}.{os.getpid()}"
    scratch.write_text(json.dumps(entry), encoding="utf-8")
    scratch.replace(cache / f"{key}.json")
    entries = sorted(cache.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
    for older in entries[KEEP_ENTRIES:]:
        older.unlink(missing_ok=True)


def cached_checkov(args: list[str], *, real: Path, cache: Path) -> int:
    scanned = _scanned_dir(args)
    key = cache_key(real, args, scanned)
    stored = cache / f"{key}.json"
    if stored.is_file():
        entry = json.loads(stored.read_text(encoding="utf-8"))
        stored.touch()  # recently used: kept by the pruning
    else:
        done = subprocess.run([str(real), *args], capture_output=True, text=True, check=False)
        entry = {
            "rc": done.returncode,
            "stdout": done.stdout.replace(str(scanned), SCANNED),
            "stderr": done.stderr.replace(str(scanned), SCANNED),
        }
        try:
            json.loads(done.stdout)
        except json.JSONDecodeError:  # no report (a crash, a bad argument): never replay that
            pass
        else:
            if SCANNED not in done.stdout + done.stderr:
                _store(cache, key, entry)
    sys.stdout.write(str(entry["stdout"]).replace(SCANNED, str(scanned)))
    sys.stderr.write(str(entry["stderr"]).replace(SCANNED, str(scanned)))
    return int(str(entry["rc"]))


def gate_command(stacks_dir: Path, *extra: str, cache: Path | None) -> list[str]:
    """The gate as `make policy` runs it; with a cache folder, checkov is this module's stand-in."""
    command = [sys.executable, "-m", "policy.checkov_gate", "--stacks-dir", str(stacks_dir), *extra]
    if cache is None:
        return command
    cache.mkdir(parents=True, exist_ok=True)
    launcher = cache / "checkov"  # the gate runs --checkov as a program
    script = (
        f"#!/bin/sh\nCHECKOV_REAL={shlex.quote(str(REAL_CHECKOV))} CHECKOV_CACHE_DIR={shlex.quote(str(cache))} "
        f'exec {shlex.quote(sys.executable)} {shlex.quote(__file__)} "$@"\n'
    )
    if not launcher.is_file() or launcher.read_text() != script:
        scratch = cache / f".checkov.{os.getpid()}"
        scratch.write_text(script)
        scratch.chmod(0o755)
        scratch.replace(launcher)
    return [*command, "--checkov", str(launcher)]


def run_gate(stacks_dir: Path, *extra: str, cache: Path | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        gate_command(stacks_dir, *extra, cache=cache), cwd=REPO, capture_output=True, text=True, timeout=300
    )


if __name__ == "__main__":
    sys.exit(
        cached_checkov(sys.argv[1:], real=Path(os.environ["CHECKOV_REAL"]), cache=Path(os.environ["CHECKOV_CACHE_DIR"]))
    )
