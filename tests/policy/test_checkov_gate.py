"""The checkov gate: real stacks pass with the reviewed waivers; findings, stale waivers,
unscanned stacks and bad waiver files fail it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from policy.checkov_gate import DEFAULT_WAIVERS, Waiver, evaluate, load_waivers, problems
from stacks.config import ConfigError
from tests.checkov_cache import run_gate
from tests.conftest import ALL_STACKS, REPO
from tests.policy.conftest import AppBuilder


@pytest.fixture(scope="module")
def gate_report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gate") / "checkov.json"


@pytest.fixture(scope="module")
def real_gate(synth_dir: Path, gate_report_path: Path, checkov_cache: Path | None) -> subprocess.CompletedProcess[str]:
    return run_gate(synth_dir / "stacks", "--report", str(gate_report_path), cache=checkov_cache)


def test_real_stacks_pass_with_at_most_five_waived_checks(real_gate: subprocess.CompletedProcess[str]) -> None:
    assert real_gate.returncode == 0, real_gate.stderr
    rows = {line.split()[0]: line.split()[1:] for line in real_gate.stdout.splitlines()[1 : 1 + len(ALL_STACKS)]}
    assert set(rows) == set(ALL_STACKS)
    for stack, (resources, passed, failed, _waived) in rows.items():
        assert int(resources) > 0 and int(failed) == 0
        # access-dev holds only the platform resource group, which checkov has no check for.
        assert int(passed) > 0 or stack == "access-dev"
    waived_line = real_gate.stdout.splitlines()[-1]
    assert waived_line.startswith("waived check ids (")
    assert int(waived_line.split("(")[1].split(")")[0]) <= 5
    assert waived_line.endswith("gate: passed")


def _readme_checkov_figures() -> dict[str, list[int]]:
    """The per-stack table the README states under "Current figures" (stack -> resources, passed,
    failed, waived): the expectation, written by a human who read the gate's output."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("Current figures (checkov") :]
    rows = [line for line in section.splitlines()[:20] if line.strip().startswith("| `")]
    return {
        cells[0].strip("` "): [int(cell) for cell in cells[1:]]
        for cells in ([cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows)
    }


def test_checkov_runs_exactly_the_checks_the_readme_states(real_gate: subprocess.CompletedProcess[str]) -> None:
    """A check checkov silently skips (a version bump, a --skip-check, a lost framework) changes a
    count: the gate's per-stack figures must equal the README's table."""
    rows = {
        line.split()[0]: [int(n) for n in line.split()[1:]]
        for line in real_gate.stdout.splitlines()[1 : 1 + len(ALL_STACKS)]
    }
    assert rows == _readme_checkov_figures()


def test_a_waiver_covers_only_its_resources() -> None:
    waiver = Waiver(check="CKV_AZURE_33", resources=("mlplatform-*/storage/account",), reason="r")
    assert waiver.covers("CKV_AZURE_33", "mlplatform-prod/storage/account")
    assert not waiver.covers("CKV_AZURE_33", "mlplatform-prod/registry/registry")
    assert not waiver.covers("CKV_AZURE_33", "network-prod/storage/account")
    assert not waiver.covers("CKV_AZURE_35", "mlplatform-prod/storage/account")


def test_a_public_storage_account_fails_the_gate(synth_test_stack: AppBuilder, checkov_cache: Path | None) -> None:
    def public_storage(stack: Any) -> None:
        from cdktf_cdktf_provider_azurerm.storage_account import StorageAccount

        StorageAccount(
            stack,
            "public_storage",
            name="stpublic",
            location="westeurope",
            resource_group_name="rg",
            account_tier="Standard",
            account_replication_type="LRS",
            public_network_access_enabled=True,
        )

    stack_dir = synth_test_stack(public_storage, with_policy=False)  # test-only stack, no project rules
    result = run_gate(stack_dir.parent, cache=checkov_cache)
    assert result.returncode == 1
    assert "gate: FAILED" in result.stdout
    assert "error: test: CKV_AZURE_59 " in result.stderr  # public network access
    assert "test/public_storage (cdk.tf.json lines" in result.stderr


@pytest.fixture(scope="module")
def real_report(real_gate: subprocess.CompletedProcess[str], gate_report_path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(gate_report_path.read_text())
    return report


def gate_problems(report: dict[str, Any], synth_dir: Path, waivers_text: str) -> list[str]:
    waivers = load_waivers(waivers_text, source="waivers.toml")
    return problems(evaluate(report, synth_dir / "stacks", waivers), waivers)


def test_a_stale_waiver_fails_the_gate(real_report: dict[str, Any], synth_dir: Path) -> None:
    stale = """
[[waiver]]
check = "CKV_AZURE_35"
resources = ["mlplatform-*/nothing/here"]
reason = "An old waiver for a resource that no longer exists in any stack."
"""
    found = gate_problems(real_report, synth_dir, DEFAULT_WAIVERS.read_text() + stale)
    assert found == ["waiver CKV_AZURE_35 ['mlplatform-*/nothing/here'] matches no finding; fix: remove it"]


def test_removing_a_waiver_turns_its_findings_into_failures(real_report: dict[str, Any], synth_dir: Path) -> None:
    text = DEFAULT_WAIVERS.read_text()
    found = gate_problems(real_report, synth_dir, text[: text.index('[[waiver]]\ncheck = "CKV_AZURE_165"')])
    assert len(found) == 1
    assert found[0].startswith("mlplatform-dev: CKV_AZURE_165 ")
    assert "mlplatform-dev/registry/registry (cdk.tf.json lines" in found[0]


def test_a_stack_scanned_with_no_checks_fails_the_gate(
    synth_dir: Path, tmp_path: Path, checkov_cache: Path | None
) -> None:
    stacks = tmp_path / "stacks"
    shutil.copytree(synth_dir / "stacks" / "network-dev", stacks / "network-dev")
    (stacks / "empty").mkdir()
    (stacks / "empty" / "cdk.tf.json").write_text('{"resource": {}}')
    # Only resource groups (checkov has no check for them): no results is right, not an error.
    (stacks / "groups").mkdir()
    (stacks / "groups" / "cdk.tf.json").write_text('{"resource": {"azurerm_resource_group": {"rg": {}}}}')
    # A checkable resource that produced no result is the wrong-framework symptom.
    (stacks / "unscanned").mkdir()
    (stacks / "unscanned" / "cdk.tf.json").write_text('{"resource": {"not_a_provider_type": {"x": {}}}}')
    (tmp_path / "none.toml").write_text("")
    result = run_gate(stacks, "--waivers", str(tmp_path / "none.toml"), cache=checkov_cache)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: empty: checkov ran no check on its 0 resources (was it scanned with the wrong framework?)",
        "error: unscanned: checkov ran no check on its 1 resources (was it scanned with the wrong framework?)",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[waiver]]\ncheck = "CKV_AZURE_33"\nresources = ["x"]\nreason = "Because."\n',
            "waiver[0].reason: is not a reason a reviewer can judge",
        ),
        (
            '[[waiver]]\ncheck = "AZURE_33"\nresources = ["x"]\nreason = "A reason that is long enough to judge."\n',
            "waiver[0].check: 'AZURE_33' is not a checkov check id",
        ),
        (
            '[[waiver]]\ncheck = "CKV_AZURE_33"\nresources = []\nreason = "A reason that is long enough to judge."\n',
            "waiver[0].resources: must be a non-empty list",
        ),
        (
            '[[waiver]]\ncheck = "CKV_AZURE_33"\nreason = "A reason that is long enough to judge."\n',
            "waiver[0]: has keys ['check', 'reason']",
        ),
        ("[waivers]\n", "waivers: unknown key"),
    ],
)
def test_bad_waiver_files_are_rejected_with_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_waivers(text, source="waivers.toml")
    assert str(caught.value).startswith(f"waivers.toml: {message}")
    assert "; fix: " in str(caught.value)


def test_the_gate_runs_the_azapi_preflight_first(tmp_path: Path) -> None:
    stack = tmp_path / "stacks" / "broken"
    stack.mkdir(parents=True)
    patch = {
        "type": "Microsoft.MachineLearningServices/workspaces@2024-10-01",
        "body": {"properties": {"systemDatastoresAuthMode": "identity"}},
    }
    (stack / "cdk.tf.json").write_text(json.dumps({"resource": {"azapi_update_resource": {"patch": patch}}}))
    result = run_gate(tmp_path / "stacks", cache=None)
    assert result.returncode == 1
    assert "AZ001" in result.stderr and "systemDatastoresAuthMode" in result.stderr
    assert result.stdout == ""  # checkov never ran


def test_the_gate_before_any_synth_says_to_synthesize_first(tmp_path: Path) -> None:
    result = run_gate(tmp_path / "cdktf.out" / "stacks", cache=None)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: no synthesized stacks in {tmp_path / 'cdktf.out' / 'stacks'}; "
        "fix: run `make synth ENV=all` first (or `make policy`)\n"
    )
