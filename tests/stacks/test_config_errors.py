"""Every kind of bad config gives one line naming file, key, rule and fix, and synthesizes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from main import load_configs, remove_stale_stacks
from stacks.config import ConfigError
from tests.conftest import REPO

DEV = (REPO / "config" / "dev.toml").read_text()
RUNNER_VNET = (
    "/subscriptions/5e2a7c9d-1b3f-4d6e-8a0c-2e4f6a8b0d1f/resourceGroups/rg-aks"
    "/providers/Microsoft.Network/virtualNetworks/vnet-aks"
)
OTHER_VNET = RUNNER_VNET.replace("vnet-aks", "vnet-other")
AUTOMATION = (
    'automation_key_vault_id = "/subscriptions/5e2a7c9d-1b3f-4d6e-8a0c-2e4f6a8b0d1f/resourceGroups/rg-aks'
    '/providers/Microsoft.KeyVault/vaults/kv-automate"'
)


def write_config(directory: Path, text: str, name: str = "dev") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.toml").write_text(text)
    return directory


def replaced(old: str, new: str, text: str = DEV) -> str:
    assert old in text, f"fixture drifted: {old!r} not in config/dev.toml"
    return text.replace(old, new, 1)


# (case id, broken config text, expected key, words the rule or fix must contain)
CASES = [
    ("unknown-key", replaced("replication_type = ", "replicaton_type = "), "storage.replicaton_type", "unknown key"),
    ("unknown-section", DEV + "\n[storgae]\nx = 1\n", "storgae", "unknown key"),
    (
        "missing-value",
        replaced('storage_account = "stgloborealtymldev"\n', ""),
        "names.storage_account",
        "missing value",
    ),
    ("missing-section", replaced("[network]", "[networking]"), "networking", "unknown key"),
    (
        "storage-uppercase",
        replaced('"stgloborealtymldev"', '"StGloboRealty"'),
        "names.storage_account",
        "3-24 lowercase letters and digits",
    ),
    (
        "storage-too-long",
        replaced('"stgloborealtymldev"', '"stgloborealtymldevelopment01"'),
        "names.storage_account",
        "3-24 lowercase letters and digits",
    ),
    (
        "key-vault-too-long",
        replaced('"kv-globorealty-dev"', '"kv-globorealty-machinelearning-dev"'),
        "names.key_vault",
        "3-24 letters",
    ),
    ("key-vault-double-hyphen", replaced('"kv-globorealty-dev"', '"kv--globorealty"'), "names.key_vault", "no '--'"),
    (
        "registry-hyphen",
        replaced('"crgloborealtymldev"', '"cr-globorealty"'),
        "names.container_registry",
        "5-50 letters and digits",
    ),
    ("registry-too-short", replaced('"crgloborealtymldev"', '"cr1"'), "names.container_registry", "5-50"),
    ("workspace-name", replaced('"mlw-globorealty-dev"', '"-mlw"'), "names.workspace", "3-33"),
    (
        "resource-group-trailing-dot",
        replaced('"rg-globorealty-ml-dev"', '"rg-globorealty."'),
        "names.resource_group",
        "not ending in '.'",
    ),
    ("cidr-invalid", replaced('"10.20.0.0/16"', '"10.20.0.0/33"'), "network.address_space", "not a valid IPv4 CIDR"),
    ("cidr-host-bits", replaced('"10.20.1.0/24"', '"10.20.1.7/24"'), "network.private_endpoint_subnet", "host bits"),
    (
        "subnet-outside-vnet",
        replaced('"10.20.2.0/23"', '"10.99.2.0/23"'),
        "network.compute_subnet",
        "outside network.address_space",
    ),
    ("subnets-overlap", replaced('"10.20.2.0/23"', '"10.20.0.0/23"'), "network.compute_subnet", "overlaps"),
    ("subnet-too-small", replaced('"10.20.1.0/24"', '"10.20.1.0/30"'), "network.private_endpoint_subnet", "/29"),
    (
        "wrong-type",
        replaced("blob_soft_delete_days = 7", 'blob_soft_delete_days = "seven"'),
        "storage.blob_soft_delete_days",
        "whole number",
    ),
    (
        "out-of-range",
        replaced("blob_soft_delete_days = 7", "blob_soft_delete_days = 0"),
        "storage.blob_soft_delete_days",
        "1 to 365",
    ),
    (
        "bad-enum",
        replaced('"AllowOnlyApprovedOutbound"', '"Open"'),
        "workspace.managed_network",
        "'AllowOnlyApprovedOutbound'",
    ),
    (
        "managed-network-disabled",
        replaced('"AllowOnlyApprovedOutbound"', '"Disabled"'),
        "workspace.managed_network",
        "image build cluster",
    ),
    ("name-mismatch", replaced('name = "dev"', 'name = "prod"'), "environment.name", "does not match the file name"),
    ("empty-tag", replaced('owner = "ml-platform-team"', 'owner = " "'), "tags.owner", "must not be empty"),
    (
        "remote-backend-incomplete",
        replaced('type = "local"', 'type = "azurerm"'),
        "backend.resource_group_name",
        "missing value for the azurerm backend",
    ),
    (
        "query-not-select",
        replaced('query = "SELECT', 'query = "DELETE FROM X; SELECT'),
        "snowflake.query",
        "single SELECT",
    ),
    (
        "suffix-makes-name-too-long",
        replaced('unique_suffix = "x3f"', 'unique_suffix = "x3f9k2"'),
        "names.cmk_key_vault",
        "shorten names.cmk_key_vault or names.unique_suffix",
    ),
    ("suffix-uppercase", replaced('unique_suffix = "x3f"', 'unique_suffix = "X3F"'), "names.unique_suffix", "0-6"),
    (
        "outbound-fqdn-with-scheme",
        replaced("[workspace]\n", '[workspace]\noutbound_fqdn_rules = { pypi = "https://pypi.org" }\n'),
        "workspace.outbound_fqdn_rules",
        "host name",
    ),
    (
        "compute-vm-size",
        DEV + '\n[compute]\nvm_size = "D4s_v5"\n',
        "compute.vm_size",
        "Standard_D4s_v5",
    ),
    (
        "rbac-wait-too-short",
        replaced("[workspace]\n", "[workspace]\nrbac_propagation_seconds = 5\n"),
        "workspace.rbac_propagation_seconds",
        "30 to 1800",
    ),
    ("toml-syntax", replaced('location = "westeurope"', "location = westeurope"), "(syntax)", "not valid TOML"),
    (
        "runners-no-automation-vault",
        replaced(
            'type = "local"',
            'type = "azurerm"\nresource_group_name = "rg-state"\nstorage_account_name = "ststate"'
            '\nkey_vault_name = "kv-state"',
        ),
        "runners.automation_key_vault_id",
        "missing for an azurerm backend",
    ),
    (
        "state-account-without-runner-vnet",
        replaced(
            'type = "local"',
            'type = "azurerm"\nresource_group_name = "rg-state"\nstorage_account_name = "ststate"'
            '\nkey_vault_name = "kv-state"',
            replaced('resource_group = "rg-globorealty-access-dev"', f'resource_group = "rg-access"\n{AUTOMATION}'),
        ),
        "runners.virtual_network_id",
        "the state account is reached only from the runner VNet",
    ),
    (
        "state-endpoint-subnet-of-another-vnet",
        replaced(
            'type = "local"',
            'type = "azurerm"\nresource_group_name = "rg-state"\nstorage_account_name = "ststate"'
            '\nkey_vault_name = "kv-state"',
            replaced(
                'virtual_network_id = ""',
                f'virtual_network_id = "{RUNNER_VNET}"\n{AUTOMATION}\n'
                f'private_endpoint_subnet_id = "{OTHER_VNET}/subnets/snet-pe"',
            ),
        ),
        "runners.private_endpoint_subnet_id",
        "is not a subnet of runners.virtual_network_id",
    ),
    (
        "state-endpoint-subnet-malformed",
        replaced('virtual_network_id = ""', 'virtual_network_id = ""\nprivate_endpoint_subnet_id = "snet-pe"'),
        "runners.private_endpoint_subnet_id",
        "a subnet resource ID",
    ),
    (
        "state-key-vault-name-invalid",
        replaced(
            'type = "local"',
            'type = "azurerm"\nresource_group_name = "rg-state"\nstorage_account_name = "ststate"'
            '\nkey_vault_name = "kv--state"',
        ),
        "backend.key_vault_name",
        "no '--'",
    ),
    (
        "runners-group-is-platform-group",
        replaced('resource_group = "rg-globorealty-access-dev"', 'resource_group = "rg-globorealty-ml-dev"'),
        "runners.resource_group",
        "also the platform or state resource group",
    ),
    (
        "runners-vault-not-an-id",
        replaced(
            'resource_group = "rg-globorealty-access-dev"',
            'resource_group = "rg-globorealty-access-dev"\nautomation_key_vault_id = "kv-automation"',
        ),
        "runners.automation_key_vault_id",
        "a Key Vault resource ID",
    ),
    (
        "runners-argo-server-account",
        replaced(
            'resource_group = "rg-globorealty-access-dev"',
            'resource_group = "rg-globorealty-access-dev"\nargo_server_service_account = "argo-server"',
        ),
        "runners.argo_server_service_account",
        "<namespace>:<service account name>",
    ),
]


@pytest.mark.parametrize(("text", "key", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_names_file_key_rule_and_fix(tmp_path: Path, text: str, key: str, rule: str) -> None:
    config_dir = write_config(tmp_path / "config", text)
    with pytest.raises(ConfigError) as caught:
        load_configs("dev", config_dir)
    message = str(caught.value.errors[0])  # a renamed section is also a missing one: that comes second
    assert message.startswith(f"{config_dir / 'dev.toml'}: {key}: ")  # the real path, not just the folder name
    assert rule in message
    assert "; fix: " in message
    assert all("\n" not in str(error) for error in caught.value.errors)


def test_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"environment selection: PLATFORM_ENV: no config file staging.toml .* use one of dev, prod"
    ):
        load_configs("staging", REPO / "config")


def test_empty_selection_is_rejected() -> None:
    with pytest.raises(ConfigError, match="environment selection: PLATFORM_ENV: is empty"):
        load_configs(" , ", REPO / "config")


def run_main(tmp_path: Path, *, config_dir: Path, environments: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, PLATFORM_ENV=environments, PLATFORM_CONFIG_DIR=str(config_dir), CDKTF_OUTDIR=str(tmp_path / "out")
    )
    env.update(extra)
    return subprocess.run(
        [sys.executable, str(REPO / "main.py")], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_main_exits_non_zero_with_one_line_and_synthesizes_nothing(tmp_path: Path) -> None:
    # prod is valid, dev is broken: nothing at all may be written, not even prod.
    config_dir = write_config(tmp_path / "config", (REPO / "config" / "prod.toml").read_text(), name="prod")
    write_config(config_dir, CASES[4][1])
    result = run_main(tmp_path, config_dir=config_dir, environments="prod,dev")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {config_dir / 'dev.toml'}: names.storage_account: 'StGloboRealty'")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_example_configs_are_valid() -> None:
    configs = load_configs("all", REPO / "config")
    assert [c.name for c in configs] == ["dev", "prod"]


def test_readme_documents_every_config_key() -> None:
    from stacks.config import describe_keys

    rows = {
        line.split("|")[1].strip(" `[]"): line.split("|")[2]
        for line in (REPO / "README.md").read_text().splitlines()
        if line.startswith("| `[")
    }
    undocumented = [
        key for key, _ in describe_keys() if f"`{key.split('.')[1]}`" not in rows.get(key.split(".")[0], "")
    ]
    assert undocumented == []


def test_two_environments_cannot_share_a_runner_vnet(tmp_path: Path) -> None:
    """Azure refuses two same-named private DNS zones on one VNet: each runner VNet serves one environment."""
    prod = (REPO / "config" / "prod.toml").read_text()
    vnet = next(line for line in prod.splitlines() if line.startswith("virtual_network_id"))
    config_dir = write_config(tmp_path / "config", prod, name="prod")
    write_config(config_dir, replaced('virtual_network_id = ""', vnet))
    with pytest.raises(ConfigError) as caught:
        load_configs("dev,prod", config_dir)
    assert str(caught.value).startswith(
        f"{config_dir / 'prod.toml'}: runners.virtual_network_id: is also the runner VNet of environment 'dev'; fix: "
    )
    assert [c.name for c in load_configs("prod", config_dir)] == ["prod"]


def test_several_mistakes_in_one_file_are_reported_at_once(tmp_path: Path) -> None:
    text = replaced('"stgloborealtymldev"', '"StGloboRealty"')
    text = replaced("blob_soft_delete_days = 7", "blob_soft_delete_days = 0", text)
    text = replaced("replication_type = ", "replicaton_type = ", text)
    result = run_main(tmp_path, config_dir=write_config(tmp_path / "config", text), environments="dev")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    where = f"error: {tmp_path / 'config' / 'dev.toml'}: "
    assert sorted(line.removeprefix(where).split(":")[0] for line in lines) == [
        "names.storage_account",
        "storage.blob_soft_delete_days",
        "storage.replicaton_type",
    ]
    assert all(line.startswith(where) and "; fix: " in line for line in lines)
    assert "did you mean 'replication_type'?" in result.stderr


def test_mistakes_in_several_environments_are_reported_together(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path / "config", replaced('"stgloborealtymldev"', '"StGloboRealty"'))
    prod = (REPO / "config" / "prod.toml").read_text().replace('owner = "', 'owner = " ', 1)
    write_config(config_dir, prod.replace("[snowflake]", "[snowflake]\nwarehose = 'X'", 1), name="prod")
    with pytest.raises(ConfigError) as caught:
        load_configs("dev,prod", config_dir)
    assert [(Path(error.source).name, error.key) for error in caught.value.errors] == [
        ("dev.toml", "names.storage_account"),
        ("prod.toml", "snowflake.warehose"),
    ]


def test_an_environment_listed_twice_is_rejected_in_one_line(tmp_path: Path) -> None:
    result = run_main(tmp_path, config_dir=REPO / "config", environments="dev,dev")
    assert result.returncode == 2
    assert result.stderr == (
        "error: environment selection: PLATFORM_ENV: 'dev,dev' names dev more than once; fix: name each once\n"
    )
    assert not (tmp_path / "out").exists()


def test_an_environment_in_the_wrong_case_gets_a_hint() -> None:
    with pytest.raises(
        ConfigError, match=r"no config file Dev.toml .* fix: environment names are lowercase: use 'dev'$"
    ):
        load_configs("Dev", REPO / "config")


@pytest.mark.parametrize("selection", ["dev", "all"])
def test_a_missing_config_folder_is_named_with_its_real_path(tmp_path: Path, selection: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_configs(selection, tmp_path / "nowhere")
    assert str(caught.value) == (
        f"environment selection: PLATFORM_CONFIG_DIR: {tmp_path / 'nowhere'} does not exist; "
        "fix: point it at the folder holding <env>.toml files"
    )


@pytest.mark.parametrize("selection", ["dev", "all"])
def test_an_empty_config_folder_says_so(tmp_path: Path, selection: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_configs(selection, tmp_path)
    assert str(caught.value).startswith(f"environment selection: PLATFORM_CONFIG_DIR: {tmp_path} has no <env>.toml")


def test_an_unknown_environment_names_the_folder_searched(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path / "elsewhere", DEV)
    with pytest.raises(ConfigError) as caught:
        load_configs("staging", config_dir)
    assert f"no config file staging.toml in {config_dir}" in str(caught.value)
    assert f"add {config_dir / 'staging.toml'}" in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CDKTF_BINDING_IMPORT", "bogus", "error: environment: CDKTF_BINDING_IMPORT: 'bogus' is not fast or stock"),
        ("CDKTF_OUTDIR", "/nonexistent-parent/out", "error: environment: CDKTF_OUTDIR: the parent folder of"),
    ],
)
def test_bad_environment_variables_are_one_line_errors(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = run_main(tmp_path, config_dir=REPO / "config", environments="dev", **{variable: value})
    assert result.returncode == 2
    assert result.stderr.startswith(expected)
    assert result.stderr.count("\n") == 1


def test_stacks_of_an_earlier_synth_are_removed(tmp_path: Path) -> None:
    for stack in ("network-dev", "network-qa", "mlplatform-qa"):
        (tmp_path / "stacks" / stack).mkdir(parents=True)
        (tmp_path / "stacks" / stack / "cdk.tf.json").write_text("{}")
    (tmp_path / "stacks" / "notes").mkdir()  # not a stack: left alone
    assert remove_stale_stacks(tmp_path, ["network-dev", "mlplatform-dev"]) == ["mlplatform-qa", "network-qa"]
    assert sorted(p.name for p in (tmp_path / "stacks").iterdir()) == ["network-dev", "notes"]
