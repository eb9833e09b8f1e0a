"""What a newcomer meets first: the Makefile's install wiring, its help and clean, the lock export, Node."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from tests.conftest import REPO

MAKE = shutil.which("make") or "make"


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAKE, "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def _prerequisites(target: str) -> set[str]:
    """The prerequisites make resolved for ``target`` (from its database, nothing is run)."""
    database = _make("-pnq", "-f", "Makefile", target).stdout
    match = re.search(rf"^{re.escape(target)}: (.*)$", database, re.MULTILINE)
    assert match, f"no rule for {target}"
    return set(match.group(1).replace("|", " ").split())


def _lock_export() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_export", REPO / "mk" / "lock_export.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- installing: each target brings only what it needs ---------------------------------


def test_synth_needs_only_the_python_environment_and_a_supported_node() -> None:
    needs = _prerequisites("synth")
    assert ".venv/.synced" in needs
    assert not {"node_modules/.installed", ".tools/checkov/.installed"} & needs


@pytest.mark.parametrize(
    ("target", "tools"),
    [
        ("test", {".venv/.synced", "node_modules/.installed", ".tools/checkov/.installed"}),
        ("policy", {".venv/.synced", ".tools/checkov/.installed"}),
        ("demo", {".venv/.synced", "node_modules/.installed"}),
        ("lint", {".venv/.synced"}),
    ],
)
def test_targets_that_use_a_tool_install_it(target: str, tools: set[str]) -> None:
    assert tools <= _prerequisites(target)


def test_tools_run_from_bytecode_where_python_may_not_write_it() -> None:
    """This machine sets PYTHONDONTWRITEBYTECODE=1: checkov is installed compiled (each gate run
    imports ~4,100 of its modules), and the suite may write bytecode for the project and tests."""
    assert "--compile-bytecode" in _make("-n", "-B", ".tools/checkov/.installed").stdout
    test_recipe = _make("-n", "test").stdout
    assert "PYTHONDONTWRITEBYTECODE= .venv/bin/python -m pytest" in test_recipe


def test_the_python_environment_is_synced_with_pinned_hash_checked_tools() -> None:
    recipe = _make("-n", "-B", ".venv/.synced", ".tools/uv/bin/uv").stdout
    assert "--require-hashes --only-binary :all:" in recipe  # uv itself
    assert "-r requirements/uv.txt" in recipe
    assert "pip sync --python .venv/bin/python --require-hashes requirements/lock.txt" in recipe
    pins = (REPO / "requirements" / "uv.txt").read_text()
    assert re.search(r"^uv==\d+\.\d+\.\d+ \\$", pins, re.MULTILINE)
    assert pins.count("--hash=sha256:") >= 10


def test_the_lock_export_matches_pipfile_lock() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "mk" / "lock_export.py"), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_lock_export_pins_every_package_with_markers_extras_and_hashes() -> None:
    lock = {
        "default": {
            "cdktf": {"hashes": ["sha256:b", "sha256:a"], "version": "==0.21.0"},
            "snowflake-connector-python": {
                "extras": ["pandas"],
                "hashes": ["sha256:c"],
                "markers": "python_version >= '3.9'",
                "version": "==4.8.1",
            },
        },
        "develop": {"cdktf": {"hashes": ["sha256:b", "sha256:a"], "version": "==0.21.0"}},
    }
    lines = _lock_export().export(lock).splitlines()
    assert [line for line in lines if not line.startswith("#")] == [
        "cdktf==0.21.0 \\",
        "    --hash=sha256:a \\",
        "    --hash=sha256:b",
        "snowflake-connector-python[pandas]==4.8.1 ; python_version >= '3.9' \\",
        "    --hash=sha256:c",
    ]


def test_a_stale_lock_export_is_detected(tmp_path: Path) -> None:
    module = _lock_export()
    lock = json.loads((REPO / "Pipfile.lock").read_text())
    lock["develop"]["pytest"]["version"] = "==0.0.1"
    assert module.export(lock) != (REPO / "requirements" / "lock.txt").read_text()
    with pytest.raises(ValueError, match="locked at two versions"):
        module.export(
            {
                "default": {"x": {"version": "==1", "hashes": ["h"]}},
                "develop": {"x": {"version": "==2", "hashes": ["h"]}},
            }
        )


# --- Node: a supported line, no end-of-life banner ------------------------------------


def test_jsii_runs_on_a_supported_node() -> None:
    node = shutil.which("node", path=os.environ["PATH"])
    assert node, "no node on PATH"
    version = subprocess.run([node, "-p", "process.versions.node"], capture_output=True, text=True).stdout
    major = int(version.split(".")[0])
    assert major >= 22, f"{node} is Node {major}; jsii supports ^22 and ^24: run `make test` (installs Node 24)"


def test_the_end_of_life_banner_is_not_silenced_anywhere() -> None:
    silencer = "JSII_SILENCE_WARNING_" + "END_OF_LIFE"
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    files = [REPO / name for name in tracked if (REPO / name).is_file()]
    assert [path for path in files if silencer in path.read_text(errors="ignore")] == []


@pytest.mark.parametrize("lane", ["cdktf", "cdktn"])
def test_the_fast_synthesis_printed_no_banner_or_warning(lane: str, synth_dir: Path, cdktn_synth_dir: Path) -> None:
    log = (cdktn_synth_dir if lane == "cdktn" else synth_dir).with_suffix(".log").read_text()
    assert log.startswith(
        "synthesized access-dev, network-dev, mlplatform-dev, access-prod, network-prod, mlplatform-prod"
        f" ({lane} lane) into "
    )
    assert "end-of-life" not in log and "warning" not in log


# --- make help, make clean, the CDKTF CLI -----------------------------------------------


def test_make_help_keeps_every_target_apart_from_its_text() -> None:
    lines = _make("help").stdout.splitlines()
    assert len(lines) >= 20
    layout = [re.fullmatch(r"(  make \S+ {2,})\S.*", line) for line in lines]
    assert all(layout), lines  # at least two spaces between the longest name and its text
    assert len({match.end(1) for match in layout if match}) == 1, "texts do not start in one column"


def test_make_clean_removes_every_generated_folder() -> None:
    ignored = [
        line.strip("/")
        for line in (REPO / ".gitignore").read_text().splitlines()
        # installed tools stay; .terraform/ lives inside cdktf.out/stacks; egg-info is never built here
        if line.endswith("/")
        and "*" not in line
        and line.strip("/") not in {".venv", "node_modules", ".tools", "__pycache__", ".terraform"}
    ]
    recipe = _make("-n", "clean").stdout.split()
    assert ignored and [folder for folder in ignored if folder not in recipe] == []


def test_the_cdktf_cli_runs_pinned_with_telemetry_off() -> None:
    recipe = _make("-n", "cdktf", "ARGS=diff network-dev").stdout
    # `npx cdktf` alone cannot find the executable (the package is cdktf-cli); pin it with -p.
    # CHECKPOINT_DISABLE=1 turns off the CLI's HashiCorp checkpoint (update/telemetry) calls.
    assert "CHECKPOINT_DISABLE=1 PLATFORM_ENV=dev npx --yes -p cdktf-cli@0.21.0 cdktf diff network-dev" in recipe
    readme = (REPO / "README.md").read_text()
    assert "make cdktf ARGS=" in readme and "npx -p cdktf-cli@0.21.0 cdktf" in readme


# --- data_bootstrap: its help and the demo's statistics ---------------------------------------


def test_data_bootstrap_help_is_plain_text() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "data_bootstrap", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "``" not in result.stdout
    assert result.stdout.startswith("usage: python -m data_bootstrap")


def test_describe_treats_snowflake_decimals_as_numbers() -> None:
    from data_bootstrap.publishing.verify import verify_frame

    frame = pd.DataFrame(
        {
            "MARKET": ["urban", "suburban"],
            "LOCATION": ["Madrid", "Lisbon"],
            "PROPERTY_TYPE": ["flat", "house"],
            "SQUARE_FEET": [800, 1200],
            "BEDROOMS": [2, 3],
            "YEAR_BUILT": [1990, 2005],
            "PRICE": [Decimal("300000.50"), Decimal("500000.50")],
        }
    )
    from stacks.config import DataContractSection

    contract = DataContractSection(columns={"PRICE": "number", "SQUARE_FEET": "integer"}, min_rows=1)
    result = verify_frame(frame, contract)
    assert result.ok, result.problems
    mean_row = next(line for line in result.describe.splitlines() if line.startswith("mean"))
    assert float(mean_row.split()[-1]) == 400000.5
