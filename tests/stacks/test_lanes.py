"""The two lanes (stacks/framework.py): the cdktn lane's JSON is the cdktf lane's, except for a
reviewed list of differences; both create the workspace in identity mode; the policy gate passes
on both. The cdktf lane's snapshots (test_snapshots.py) therefore pin the cdktn lane too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stacks.framework import BINDING_CLASSES, FRAMEWORK_NAMES, LANES
from tests.checkov_cache import run_gate
from tests.conftest import ALL_STACKS, REPO
from tests.stacks.tf_json import resources

PLATFORM_STACKS = tuple(name for name in ALL_STACKS if name.startswith("mlplatform-"))

# Every difference between the lanes' cdk.tf.json: (dotted JSON path, cdktf value, cdktn value, why).
# Reviewed: none of them changes a resource, an argument or a logical ID.
ALLOWED_LANE_DIFFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("//.metadata.version", "0.21.0", "0.24.0", "framework version recorded by synth; metadata, not planned"),
    (
        "terraform.required_providers.azurerm.version",
        "4.55.0",
        "4.81.0",
        "each binding pins the azurerm release it was generated from (docs/cdktn-lane.md, provider changes)",
    ),
)
# Only stacks with RBAC propagation waits declare the time provider (the platform stacks, and
# the access stack of a remote-state environment, for its state account's key).
ALLOWED_TIME_DIFFERENCES: tuple[tuple[str, str, str, str], ...] = (
    (
        "terraform.required_providers.time.version",
        "0.13.1",
        "0.14.2",
        "cdktf-cdktf-provider-time 11.0.1 vs cdktn-provider-time 14.0.2; time_sleep's arguments are unchanged",
    ),
)


def json_differences(left: Any, right: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, left value, right value) for every leaf that differs; a missing key is None."""
    if isinstance(left, dict) and isinstance(right, dict):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(left) | set(right)):
            where = f"{path}.{key}" if path else key
            if key not in left or key not in right:
                found.append((where, left.get(key), right.get(key)))
            else:
                found.extend(json_differences(left[key], right[key], where))
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            diff
            for index, pair in enumerate(zip(left, right, strict=True))
            for diff in json_differences(*pair, f"{path}[{index}]")
        ]
    return [] if left == right else [(path, left, right)]


def expected_differences(stack: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    waits = "time" in stack["terraform"]["required_providers"]
    allowed = ALLOWED_LANE_DIFFERENCES + (ALLOWED_TIME_DIFFERENCES if waits else ())
    return sorted((path, cdktf, cdktn) for path, cdktf, cdktn, _why in allowed)


def test_json_differences_finds_changed_added_and_removed_leaves() -> None:
    left = {"a": {"b": [1, {"c": "x"}], "gone": 1}, "same": True}
    right = {"a": {"b": [1, {"c": "y"}], "new": 2}, "same": True}
    assert json_differences(left, right) == [("a.b[1].c", "x", "y"), ("a.gone", 1, None), ("a.new", None, 2)]


@pytest.mark.parametrize("stack_name", ALL_STACKS)
def test_the_lanes_differ_only_where_reviewed(
    stack_name: str, stacks: dict[str, Any], cdktn_stacks: dict[str, Any]
) -> None:
    found = sorted(json_differences(stacks[stack_name], cdktn_stacks[stack_name]))
    assert found == expected_differences(stacks[stack_name])


@pytest.mark.parametrize("lane", ["cdktf", "cdktn"])
@pytest.mark.parametrize("stack_name", PLATFORM_STACKS)
def test_each_lane_creates_the_workspace_in_identity_mode(
    lane: str, stack_name: str, stacks: dict[str, Any], cdktn_stacks: dict[str, Any]
) -> None:
    stack = (cdktn_stacks if lane == "cdktn" else stacks)[stack_name]
    # One workspace, declared as an azapi create whose request carries the mode (not azurerm's
    # typed storage_account_access_type, which only the cdktn bindings have: docs/cdktn-lane.md).
    workspaces = [
        body
        for body in resources(stack, "azapi_resource").values()
        if body["type"].startswith("Microsoft.MachineLearningServices/workspaces@")
    ]
    assert len(workspaces) == 1
    assert workspaces[0]["body"]["properties"]["systemDatastoresAuthMode"] == "Identity"
    assert "azurerm_machine_learning_workspace" not in stack["resource"]
    assert "azapi_update_resource" not in stack["resource"]


def test_the_lanes_name_the_same_framework_classes_and_bindings() -> None:
    """Every name stacks import resolves in both lanes (a missing one would fail only that lane's synth)."""
    cdktf, cdktn = LANES["cdktf"], LANES["cdktn"]
    assert set(cdktf.bindings) == set(cdktn.bindings) == {module.split(".")[0] for module in BINDING_CLASSES}
    assert {"App", "TerraformStack"} <= set(FRAMEWORK_NAMES)


def test_a_lane_that_is_not_known_is_rejected_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "main.py")],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PLATFORM_LANE": "cdktn5"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr
        == "error: environment: PLATFORM_LANE: 'cdktn5' is not a lane; fix: use one of cdktf, cdktn or unset it\n"
    )


def test_the_real_cdktn_synthesis_loaded_only_a_few_azurerm_submodules(cdktn_synth_dir: Path) -> None:
    """The Node-side lazy load engaged on the cdktn binding's (TypeScript 5) index.js layout."""
    (line,) = cdktn_synth_dir.with_suffix(".trace").read_text().splitlines()
    assert '"package":"@cdktn/provider-azurerm"' in line
    assert '"submodules":1544' in line


def test_the_policy_gate_passes_on_the_cdktn_lane(cdktn_synth_dir: Path, checkov_cache: Path | None) -> None:
    result = run_gate(cdktn_synth_dir / "stacks", cache=checkov_cache)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0] for line in result.stdout.splitlines()[1 : 1 + len(ALL_STACKS)]}
    assert rows == set(ALL_STACKS)


# A public storage account with no private endpoint, declared through stacks.framework in the
# lane given on the command line, with the project's policy aspect: the synth must fail.
POLICY_PROBE = """
import sys
from stacks.framework import select_lane
select_lane(sys.argv[2])
from stacks.framework import (App, Aspects, AzurermProvider, AzurermProviderFeatures,
    AzurermProviderFeaturesStorage, LocalBackend, StorageAccount, TerraformStack)
from stacks.policy import PolicyAspect, policy_lines
app = App(outdir=sys.argv[1])
stack = TerraformStack(app, "test")
LocalBackend(stack, path="test.tfstate")
storage = [AzurermProviderFeaturesStorage(data_plane_available=False)]
AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures(storage=storage)])
tags = {"environment": "test", "project": "p", "provisioner": "cdktf", "owner": "o", "cost_center": "c"}
StorageAccount(stack, "storage", name="sttest", location="westeurope", resource_group_name="rg",
    account_tier="Standard", account_replication_type="ZRS", public_network_access_enabled=True,
    shared_access_key_enabled=False, tags=tags)
Aspects.of(stack).add(PolicyAspect())
try:
    app.synth()
except RuntimeError as error:
    print("\\n".join(policy_lines(error) or [str(error)]))
    sys.exit(3)
"""


def run_probe(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh interpreter (a lane is chosen once per process) from the repository."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=180,
    )


PROBE_SEPARATOR = "--- policy probe"
FRAMEWORK_PROBE = """
import importlib, stacks.framework as framework
assert not hasattr(framework, "__path__") and framework._selected == []  # import probes pick no lane
try:
    framework.NotAClassOfOurs
except AttributeError as error:
    print(error)
framework.select_lane("cdktn")
try:
    framework.select_lane("cdktf")
except RuntimeError as error:
    print(error)
print(framework.StorageAccount.__module__)
"""


@dataclass(frozen=True, kw_only=True)
class LaneProbe:
    returncode: int
    stderr: str
    framework_lines: list[str]
    policy_lines: list[str]
    outdir: Path


@pytest.fixture(scope="module")
def cdktn_probe(tmp_path_factory: pytest.TempPathFactory) -> LaneProbe:
    """FRAMEWORK_PROBE, then POLICY_PROBE, in one fresh interpreter on the cdktn lane: each loads the
    lane's binding in a jsii kernel (about 3 CPU s), and the second one's selection must be a no-op."""
    outdir = tmp_path_factory.mktemp("cdktn-probe") / "out"
    result = run_probe(f"{FRAMEWORK_PROBE}\nprint({PROBE_SEPARATOR!r})\n{POLICY_PROBE}", str(outdir), "cdktn")
    framework, _, policy = result.stdout.partition(f"{PROBE_SEPARATOR}\n")
    return LaneProbe(
        returncode=result.returncode,
        stderr=result.stderr,
        framework_lines=framework.splitlines(),
        policy_lines=policy.splitlines(),
        outdir=outdir,
    )


def test_one_lane_per_process_and_names_resolve_from_it(cdktn_probe: LaneProbe) -> None:
    assert cdktn_probe.framework_lines == [
        "module 'stacks.framework' has no attribute 'NotAClassOfOurs'",
        "lane cdktn already selected in this process; one lane per process",
        "cdktn_provider_azurerm.storage_account",
    ], cdktn_probe.stderr


def test_the_policy_rules_reject_a_public_storage_account_in_the_cdktn_lane(cdktn_probe: LaneProbe) -> None:
    assert cdktn_probe.returncode == 3, cdktn_probe.stderr
    assert cdktn_probe.policy_lines == [
        "policy violation: test/storage: GR002 azurerm_storage_account must set public_network_access_enabled = false;"
        " fix: set public_network_access_enabled=False",
        "policy violation: test/storage: GR002 azurerm_storage_account has no private endpoint;"
        " fix: add an entry to the construct's private_endpoints map",
    ]
    assert not (cdktn_probe.outdir / "stacks" / "test" / "cdk.tf.json").exists()
