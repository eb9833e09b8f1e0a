"""The azapi preflight: every azapi body matches the ARM type definitions azapi ships."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policy.azapi_preflight import DEFAULT_TYPES_DIR, TypeCatalog, check_stacks, main, validate_body

WORKSPACE = "Microsoft.MachineLearningServices/workspaces@2025-06-01"
COMPUTE = "Microsoft.MachineLearningServices/workspaces/computes@2025-06-01"
CATALOG = TypeCatalog(DEFAULT_TYPES_DIR)


def codes(type_string: str, body: Any, *, patch: bool = False) -> list[tuple[str, str]]:
    return [(f.code, f.path) for f in validate_body(CATALOG, type_string, body, patch=patch)]


def cluster(**aml: Any) -> dict[str, Any]:
    properties = {"vmSize": "Standard_D4s_v5", "scaleSettings": {"maxNodeCount": 2}, **aml}
    return {"properties": {"computeType": "AmlCompute", "properties": properties}}


def test_the_types_are_there() -> None:
    assert (DEFAULT_TYPES_DIR / "microsoft.machinelearningservices" / "2025-06-01" / "types.json").is_file()


def test_the_old_patch_is_caught() -> None:
    """What shipped before issue 11: a property 2024-10-01 does not have, silently dropped by azapi."""
    old = {"properties": {"systemDatastoresAuthMode": "identity"}}
    assert codes("Microsoft.MachineLearningServices/workspaces@2024-10-01", old, patch=True) == [
        ("AZ001", "body.properties.systemDatastoresAuthMode")
    ]


@pytest.mark.parametrize(
    ("type_string", "body", "expected"),
    [
        pytest.param(
            WORKSPACE,
            {"properties": {"systemDatastoresAuthMod": "Identity"}},
            ("AZ001", "body.properties.systemDatastoresAuthMod"),
            id="unknown-property",
        ),
        pytest.param(
            WORKSPACE,
            {"properties": {"provisioningState": "Succeeded"}},
            ("AZ002", "body.properties.provisioningState"),
            id="read-only",
        ),
        pytest.param(
            WORKSPACE,
            {"properties": {"systemDatastoresAuthMode": "identity"}},
            ("AZ003", "body.properties.systemDatastoresAuthMode"),
            id="enum-spelling",
        ),
        pytest.param(
            WORKSPACE,
            {"properties": {"publicNetworkAccess": "Off"}},
            ("AZ003", "body.properties.publicNetworkAccess"),
            id="enum-value",
        ),
        pytest.param(
            COMPUTE,
            {"properties": {"computeType": "AmlCompute", "properties": {"scaleSettings": {"minNodeCount": 0}}}},
            ("AZ004", "body.properties.properties.scaleSettings.maxNodeCount"),
            id="required-missing",
        ),
        pytest.param(
            COMPUTE,
            cluster(enableNodePublicIp="false"),
            ("AZ005", "body.properties.properties.enableNodePublicIp"),
            id="wrong-type",
        ),
        pytest.param(
            COMPUTE,
            {"properties": {"computeType": "Cluster"}},
            ("AZ003", "body.properties.computeType"),
            id="unknown-discriminator",
        ),
        pytest.param(
            "Microsoft.MachineLearningServices/workspaces@2023-01-01",
            {"properties": {}},
            ("AZ006", "body"),
            id="unknown-version",
        ),
        pytest.param(
            WORKSPACE,
            {"properties": {"managedNetwork": {"outboundRules": {"pypi": {"type": "FQDN", "destinaton": "pypi.org"}}}}},
            ("AZ001", "body.properties.managedNetwork.outboundRules.pypi.destinaton"),
            id="unknown-property-in-a-discriminated-map-entry",
        ),
    ],
)
def test_a_bad_body_is_reported_with_its_path(type_string: str, body: Any, expected: tuple[str, str]) -> None:
    assert expected in codes(type_string, body)


def test_the_fix_names_the_spelling_the_version_defines() -> None:
    (finding,) = validate_body(CATALOG, WORKSPACE, {"properties": {"systemDatastoresAuthMode": "identity"}})
    assert finding.fix == 'write "Identity"'


def test_names_are_case_insensitive_and_expressions_are_unknown() -> None:
    body = {"Properties": {"PublicNetworkAccess": "Disabled", "storageAccount": "${azurerm_storage_account.s.id}"}}
    assert codes(WORKSPACE, body) == []
    assert codes(COMPUTE, cluster(enableNodePublicIp=False, vmPriority="Dedicated")) == []


def test_the_synthesized_stacks_pass(synth_dir: Path) -> None:
    assert check_stacks(synth_dir / "stacks", CATALOG) == []


def test_the_command_fails_with_one_line_per_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "stacks" / "broken"
    stack.mkdir(parents=True)
    resource = {
        "//": {"metadata": {"path": "broken/workspace/patch"}},
        "type": "Microsoft.MachineLearningServices/workspaces@2024-10-01",
        "body": {"properties": {"systemDatastoresAuthMode": "identity"}},
    }
    (stack / "cdk.tf.json").write_text(json.dumps({"resource": {"azapi_update_resource": {"patch": resource}}}))
    assert main(["--stacks-dir", str(tmp_path / "stacks")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: azapi preflight: broken/workspace/patch body.properties.systemDatastoresAuthMode: AZ001 is not a "
        "property of Microsoft.MachineLearningServices/workspaces@2024-10-01; fix: remove it or pick an API "
        "version that defines it"
    ]
    assert main(["--stacks-dir", str(tmp_path / "stacks"), "--types-dir", str(tmp_path / "none")]) == 2
