"""Session-wide fixtures: the app is synthesized once per test session.

Synthesis runs `main.py` in a subprocess, exactly as `make synth` and
`cdktf synth` do. The stock-import synthesis used by the equivalence test is
started in the background as soon as collection shows it is needed, so its
~15 s overlap the other tests instead of adding to them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stacks.naming import STACK_KINDS, stack_name

REPO = Path(__file__).resolve().parents[1]
ALL_STACKS = tuple(stack_name(kind, env) for env in ("dev", "prod") for kind in STACK_KINDS)


def synth_command_env(outdir: Path, *, mode: str = "fast", environments: str = "all") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PLATFORM_ENV=environments,
        CDKTF_OUTDIR=str(outdir),
        CDKTF_BINDING_IMPORT=mode,
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    return env


def start_synth(outdir: Path, *, mode: str = "fast", environments: str = "all") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(REPO / "main.py")],
        cwd=REPO,
        env=synth_command_env(outdir, mode=mode, environments=environments),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_synth(process: subprocess.Popen[str], outdir: Path) -> Path:
    stdout, stderr = process.communicate(timeout=300)
    if process.returncode != 0:
        raise RuntimeError(f"synth into {outdir} failed ({process.returncode}):\n{stdout}\n{stderr}")
    return outdir


def load_stacks(outdir: Path) -> dict[str, dict[str, Any]]:
    return {
        path.parent.name: json.loads(path.read_text()) for path in sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    }


_background: dict[str, tuple[subprocess.Popen[str], Path]] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.get_closest_marker("stock_synth") for item in session.items):
        outdir = Path(session.config._tmp_path_factory.mktemp("synth-stock"))  # type: ignore[attr-defined]
        _background["stock"] = (start_synth(outdir, mode="stock"), outdir)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stock_synth: needs the app synthesized with the stock binding import")


def pytest_unconfigure(config: pytest.Config) -> None:
    for process, _ in _background.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.fixture(scope="session")
def stock_synth_dir() -> Path:
    process, outdir = _background["stock"]
    return finish_synth(process, outdir)


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("synth")
    return finish_synth(start_synth(outdir), outdir)


@pytest.fixture(scope="session")
def stacks(synth_dir: Path) -> dict[str, dict[str, Any]]:
    loaded = load_stacks(synth_dir)
    assert tuple(loaded) == tuple(sorted(ALL_STACKS))
    return loaded
