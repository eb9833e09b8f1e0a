"""The plan step (`make plan`, .github/scripts/terraform-plan.sh) against real terraform, offline.

The stacks here declare no provider, so `terraform init` needs no registry:
what is tested is the order, the stop on failure, the summary and its size limit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.github.workflow_files import REPO

SCRIPT = REPO / ".github" / "scripts" / "terraform-plan.sh"
GITHUB_SUMMARY_LIMIT = 1024 * 1024


@pytest.fixture(autouse=True)
def _terraform_on_path() -> None:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH: these tests run the real CLI (no registry needed)")


def _write_stack(stacks: Path, name: str, document: dict[str, Any]) -> Path:
    stack = stacks / name
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps(document), encoding="utf-8")
    return stack


def _local_stack(stacks: Path, name: str, value: str) -> Path:
    backend = {"local": {"path": "terraform.tfstate"}}
    return _write_stack(stacks, name, {"terraform": {"backend": backend}, "output": {"name": {"value": value}}})


def _run(*args: str, stacks: Path, summary: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GITHUB_")}
    env.update(STACKS_DIR=str(stacks), PLAN_SUMMARY=str(summary), TF_IN_AUTOMATION="1", **extra_env)
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=180, check=False)


def test_make_plan_plans_network_then_mlplatform_into_the_summary(tmp_path: Path) -> None:
    stacks, summary = tmp_path / "stacks", tmp_path / "summary.md"
    network = _local_stack(stacks, "network-ci", "vnet-ci")
    mlplatform = _local_stack(stacks, "mlplatform-ci", "mlw-ci")
    result = _run("make", "--no-print-directory", "plan", "ENV=ci", stacks=stacks, summary=summary)
    assert result.returncode == 0, result.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## terraform plan: ci\n")
    assert text.index("### `network-ci`") < text.index('+ name = "vnet-ci"') < text.index("### `mlplatform-ci`")
    assert text.index("### `mlplatform-ci`") < text.index('+ name = "mlw-ci"')
    assert (network / "tfplan").is_file() and (mlplatform / "tfplan").is_file()


def test_a_failing_network_plan_stops_before_mlplatform(tmp_path: Path) -> None:
    stacks, summary = tmp_path / "stacks", tmp_path / "summary.md"
    _write_stack(stacks, "network-ci", {"output": {"broken": {"value": "${var.undeclared}"}}})
    mlplatform = _local_stack(stacks, "mlplatform-ci", "mlw-ci")
    result = _run(str(SCRIPT), "ci", stacks=stacks, summary=summary)
    assert result.returncode != 0
    assert "undeclared" in result.stderr
    assert not (mlplatform / "tfplan").exists()
    assert "mlplatform-ci" not in summary.read_text(encoding="utf-8")


def test_the_summary_stays_under_githubs_one_mebibyte_limit(tmp_path: Path) -> None:
    stacks, summary = tmp_path / "stacks", tmp_path / "summary.md"
    _local_stack(stacks, "network-ci", "n" * 700_000)
    _local_stack(stacks, "mlplatform-ci", "m" * 700_000)
    result = _run(str(SCRIPT), "ci", stacks=stacks, summary=summary)
    assert result.returncode == 0, result.stderr
    text = summary.read_text(encoding="utf-8")
    assert len(text.encode()) < GITHUB_SUMMARY_LIMIT
    assert text.count("> Truncated: 480000 of ") == 2
    assert text.index("### `network-ci`") < text.index("### `mlplatform-ci`")


def test_a_missing_stack_is_one_line_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    result = _run(str(SCRIPT), "ci", stacks=tmp_path / "absent", summary=tmp_path / "summary.md")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"terraform-plan: {tmp_path}/absent/network-ci/cdk.tf.json is missing: "
        "run 'make synth ENV=ci' first (or set STACKS_DIR)"
    ]


def test_backend_check_tells_remote_state_from_local(tmp_path: Path) -> None:
    remote, local = tmp_path / "remote", tmp_path / "local"
    azurerm = {"container_name": "tfstate", "key": "network-prod.tfstate", "storage_account_name": "sttfstate"}
    _write_stack(remote, "network-prod", {"terraform": {"backend": {"azurerm": azurerm}}})
    _local_stack(local, "network-dev", "vnet-dev")

    result = _run(str(SCRIPT), "--backend", "prod", stacks=remote, summary=tmp_path / "prod.md")
    assert (result.returncode, result.stdout) == (0, "remote=true\n")
    assert not (tmp_path / "prod.md").exists()

    result = _run(str(SCRIPT), "--backend", "dev", stacks=local, summary=tmp_path / "dev.md")
    assert (result.returncode, result.stdout) == (0, "remote=false\n")
    assert "local backend" in (tmp_path / "dev.md").read_text(encoding="utf-8")
