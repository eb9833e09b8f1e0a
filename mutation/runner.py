"""Apply each curated mutation to a scratch copy of the tree and run the tests that should kill it.

Each worker gets its own scratch copy (the files git tracks or would track, with the installed
``.venv``, ``node_modules`` and ``.tools`` linked in and ``shared/`` beside it, as on a clone).
A mutation is applied, its tests run with the snapshot tests left out, and the file is restored.
pytest exit 1 means a test failed: killed. Exit 0 means every test passed: the mutation
survived. Any other exit (collection error, no tests, timeout) is an error: a broken mutation
proves nothing.
"""

from __future__ import annotations

import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from mutation.catalog import Mutation

LINKED = (".venv", "node_modules", ".tools")
PYTEST_ARGS = (
    "-x",
    "-q",
    "-rfE",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:randomly",
    "-p",
    "no:syrupy",
    "--ignore=tests/stacks/test_snapshots.py",
)
# "FAILED <node id> - <message>"; a node id may hold spaces (parametrize ids)
_FAILED = re.compile(r"^(FAILED|ERROR) (.+?)(?: - .*)?$", re.MULTILINE)
_POLICY_RULE = re.compile(r"policy violation: \S+: (GR\d{3}) ")


@dataclass(frozen=True, kw_only=True)
class Outcome:
    mutation: Mutation
    verdict: str  # killed | survived | error
    killer: str
    seconds: float


def tracked_files(repo: Path) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=repo,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (repo / name).is_file()]


def make_scratch(repo: Path, parent: Path) -> Path:
    """A copy of the tree at ``parent/repo`` with ``parent/shared`` beside it, like a clone."""
    scratch = parent / "repo"
    for name in tracked_files(repo):
        target = scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, target)
    for name in LINKED:
        if (repo / name).exists():
            (scratch / name).symlink_to((repo / name).resolve())
    shared = (repo.parent / "shared").resolve()
    if shared.is_dir():
        (parent / "shared").symlink_to(shared)
    return scratch


def run_tests(scratch: Path, tests: Iterable[str], *, timeout: float, workers: int = 0) -> tuple[int, str]:
    """pytest on ``tests``; one process per mutation (its workers already run side by side), xdist
    ``workers`` for the one baseline run."""
    parallel = ["-n", str(workers), "--dist", "loadfile"] if workers > 1 else ["-p", "no:xdist"]
    command = [str(scratch / ".venv" / "bin" / "python"), "-m", "pytest", *PYTEST_ARGS, *parallel, *tests]
    try:
        done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return -1, "timeout"
    return done.returncode, done.stdout + done.stderr


def judge(mutation: Mutation, scratch: Path, *, timeout: float) -> Outcome:
    source = scratch / mutation.file
    original = source.read_bytes()
    started = time.monotonic()
    try:
        source.write_text(mutation.apply(original.decode("utf-8")), encoding="utf-8")
        code, output = run_tests(scratch, mutation.tests, timeout=timeout)
    finally:
        source.write_bytes(original)
    seconds = time.monotonic() - started
    if code == 1:
        failed = _FAILED.search(output)
        # ERROR: a fixture failed, e.g. the shared synthesis aborted by a policy rule (GR0xx)
        rules = ", ".join(sorted(set(_POLICY_RULE.findall(output)))) or "an error"
        refused = f" (setup: synth refused by {rules})" if failed and failed.group(1) == "ERROR" else ""
        killer = failed.group(2) + refused if failed else "?"
        return Outcome(mutation=mutation, verdict="killed", killer=killer, seconds=seconds)
    if code == 0:
        return Outcome(mutation=mutation, verdict="survived", killer="", seconds=seconds)
    tail = output.strip().splitlines()[-1] if output.strip() else "no output"
    return Outcome(mutation=mutation, verdict="error", killer=f"pytest exit {code}: {tail[:80]}", seconds=seconds)


def run_all(
    repo: Path,
    mutations: list[Mutation],
    *,
    jobs: int,
    timeout: float,
    report: Callable[[Outcome], None],
) -> list[Outcome]:
    """Judge every mutation with ``jobs`` workers, each on its own scratch copy."""
    pending: queue.Queue[Mutation] = queue.Queue()
    for mutation in mutations:
        pending.put(mutation)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def worker() -> None:
        with tempfile.TemporaryDirectory(prefix="mutation-") as parent:
            scratch = make_scratch(repo, Path(parent))
            while True:
                try:
                    mutation = pending.get_nowait()
                except queue.Empty:
                    return
                outcome = judge(mutation, scratch, timeout=timeout)
                with lock:
                    outcomes.append(outcome)
                    report(outcome)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, min(jobs, len(mutations))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    order = {mutation.id: index for index, mutation in enumerate(mutations)}
    return sorted(outcomes, key=lambda outcome: order[outcome.mutation.id])


def baseline(repo: Path, mutations: list[Mutation], *, timeout: float, workers: int = 2) -> tuple[int, str]:
    """Run every test the catalog names once, unmutated: they must pass for kills to mean anything."""
    tests = sorted({test for mutation in mutations for test in mutation.tests})
    with tempfile.TemporaryDirectory(prefix="mutation-") as parent:
        scratch = make_scratch(repo, Path(parent))
        return run_tests(scratch, tests, timeout=timeout, workers=workers)
