"""The azurerm backend's storage (access stack): every security setting, its reach, only where remote.

docs/access.md, "Remote state", lists what these pin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from main import access_local_state
from stacks.config import ConfigError, EnvironmentConfig, parse_environment_toml
from stacks.constructs.private_dns import PRIVATE_DNS_ZONES
from tests.conftest import REPO
from tests.stacks.tf_json import reference, repeated_links, resources, zone_links

ACCOUNT_PATH = "access-prod/state_backend/storage/account"


def config_of(env: str) -> EnvironmentConfig:
    text = (REPO / "config" / f"{env}.toml").read_text(encoding="utf-8")
    return parse_environment_toml(text, source=f"config/{env}.toml", expected_name=env)


def at_path(stack: dict[str, Any], resource_type: str, path: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(k, v) for k, v in resources(stack, resource_type).items() if v["//"]["metadata"]["path"] == path]
    return found


def state_account(stacks: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return at_path(stacks["access-prod"], "azurerm_storage_account", ACCOUNT_PATH)


def test_the_state_account_is_entra_only_private_and_recoverable(stacks: dict[str, Any]) -> None:
    _, account = state_account(stacks)
    config = config_of("prod")
    assert account["name"] == config.backend.storage_account_name == "stgloborealtytfstate"
    assert account["shared_access_key_enabled"] is False
    assert account["default_to_oauth_authentication"] is True
    assert account["public_network_access_enabled"] is False
    assert account["network_rules"]["default_action"] == "Deny"
    assert account["allow_nested_items_to_be_public"] is False
    assert account["min_tls_version"] == "TLS1_2"
    assert account["https_traffic_only_enabled"] is True
    assert account["cross_tenant_replication_enabled"] is False
    assert account["local_user_enabled"] is False and account["sftp_enabled"] is False
    blob = account["blob_properties"]
    assert blob["versioning_enabled"] is True
    assert blob["delete_retention_policy"]["days"] == config.storage.blob_soft_delete_days >= 7
    assert blob["container_delete_retention_policy"]["days"] == config.storage.container_soft_delete_days >= 7
    # losing it loses every stack's state: a destroying plan fails
    assert account["lifecycle"] == {"prevent_destroy": True}


def test_the_state_account_is_encrypted_with_its_own_key(stacks: dict[str, Any]) -> None:
    stack = stacks["access-prod"]
    _, account = state_account(stacks)
    key_id, key = at_path(stack, "azapi_resource", "access-prod/state_backend/encryption/key")
    vault_id, vault = at_path(stack, "azurerm_key_vault", "access-prod/state_backend/key_vault/vault")
    identity_id, _ = at_path(stack, "azurerm_user_assigned_identity", "access-prod/state_backend/encryption/identity")
    assert key["parent_id"] == reference("azurerm_key_vault", vault_id)
    assert vault["name"] == "kv-globorealty-tfstate"
    assert vault["purge_protection_enabled"] is True and vault["public_network_access_enabled"] is False
    cmk = account["customer_managed_key"]
    assert cmk["key_vault_key_id"] == reference("azapi_resource", key_id, "output.properties.keyUri")
    assert cmk["user_assigned_identity_id"] == reference("azurerm_user_assigned_identity", identity_id)
    assert account["identity"]["identity_ids"] == [reference("azurerm_user_assigned_identity", identity_id)]
    # the account waits for the key's grant to propagate, not on the grant itself (GR007)
    assert [dep.split(".")[0] for dep in account["depends_on"]] == ["time_sleep"]


def test_the_state_account_is_reached_only_through_the_runner_vnet(stacks: dict[str, Any]) -> None:
    stack = stacks["access-prod"]
    account_id, _ = state_account(stacks)
    runners = config_of("prod").runners
    endpoints = [
        body
        for body in resources(stack, "azurerm_private_endpoint").values()
        if body["private_service_connection"]["private_connection_resource_id"]
        == reference("azurerm_storage_account", account_id)
    ]
    (endpoint,) = endpoints
    assert endpoint["subnet_id"] == runners.private_endpoint_subnet_id
    assert endpoint["subnet_id"].startswith(f"{runners.virtual_network_id}/subnets/")
    assert endpoint["private_service_connection"]["subresource_names"] == ["blob"]
    (zone_ref,) = endpoint["private_dns_zone_group"]["private_dns_zone_ids"]
    zone = resources(stack, "azurerm_private_dns_zone")[
        zone_ref.removeprefix("${azurerm_private_dns_zone.").split(".")[0]
    ]
    assert zone["name"] == PRIVATE_DNS_ZONES["blob"]
    # that zone is the one linked to the runner VNet
    assert (PRIVATE_DNS_ZONES["blob"], runners.virtual_network_id) in zone_links(stacks, "prod")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_only_remote_state_environments_get_a_state_account(stacks: dict[str, Any], env: str) -> None:
    config = config_of(env)
    access = stacks[f"access-{env}"]
    accounts = [b["name"] for b in resources(access, "azurerm_storage_account").values()]
    if config.backend.type == "azurerm":
        assert accounts == [config.backend.storage_account_name]
    else:
        assert accounts == []
        assert resources(access, "azurerm_private_endpoint") == {}
        assert resources(access, "azurerm_private_dns_zone") == {}


def test_every_remote_backend_points_at_the_declared_account(stacks: dict[str, Any]) -> None:
    stack = stacks["access-prod"]
    _, account = state_account(stacks)
    _, container = at_path(stack, "azurerm_storage_container", "access-prod/state_backend/storage/container_tfstate")
    (group,) = [
        b
        for b in resources(stack, "azurerm_resource_group").values()
        if "/state_backend/" in b["//"]["metadata"]["path"]
    ]
    for name in ("access-prod", "network-prod", "mlplatform-prod"):
        backend = stacks[name]["terraform"]["backend"]["azurerm"]
        assert backend["storage_account_name"] == account["name"]
        assert backend["container_name"] == container["name"]
        assert backend["resource_group_name"] == group["name"]
        assert backend["use_azuread_auth"] is True


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_no_vnet_is_linked_to_two_zones_of_one_name(stacks: dict[str, Any], env: str) -> None:
    links = zone_links(stacks, env)
    assert links, env
    assert repeated_links(links) == []


def test_repeated_links_finds_a_second_zone_of_one_name_on_a_vnet() -> None:
    """The mistake this guards: the network stack and the access stack both linking a blob zone to the runner VNet."""
    links = [
        ("privatelink.blob.core.windows.net", "/vnet/runner"),
        ("privatelink.blob.core.windows.net", "/vnet/runner"),
    ]
    assert repeated_links(links) == [("privatelink.blob.core.windows.net", "/vnet/runner")]
    assert (
        repeated_links(
            [
                ("privatelink.blob.core.windows.net", "/vnet/runner"),
                ("privatelink.blob.core.windows.net", "/vnet/platform"),
            ]
        )
        == []
    )


def test_first_apply_keeps_only_the_access_stacks_state_local(tmp_path: Path) -> None:
    """docs/access.md, "Order and bootstrap": PLATFORM_ACCESS_STATE=local for the first apply."""
    env = dict(os.environ, PLATFORM_ENV="prod", CDKTF_OUTDIR=str(tmp_path / "out"), PLATFORM_ACCESS_STATE="local")
    result = subprocess.run(
        [sys.executable, str(REPO / "main.py")], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    backends = {
        name: json.loads((tmp_path / "out" / "stacks" / name / "cdk.tf.json").read_text())["terraform"]["backend"]
        for name in ("access-prod", "network-prod", "mlplatform-prod")
    }
    assert backends["access-prod"] == {"local": {"path": "../../../terraform-state/access-prod.tfstate"}}
    assert set(backends["network-prod"]) == set(backends["mlplatform-prod"]) == {"azurerm"}


@pytest.mark.parametrize(("value", "local"), [(None, False), ("", False), ("remote", False), ("local", True)])
def test_access_state_setting_values(value: str | None, local: bool) -> None:
    assert access_local_state(value) is local


def test_a_misspelt_access_state_setting_is_one_line_naming_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"PLATFORM_ACCESS_STATE: 'Local' is not local or remote; fix: unset it"):
        access_local_state("Local")
