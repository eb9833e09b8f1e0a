"""Hardening settings of the platform stacks, each pinned by value (issue 15: every setting a
mutation could flip is stated here, independently of the code that sets it)."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.stacks.test_security_properties import azapi, network, platform
from tests.stacks.tf_json import all_resources, only, resources

ENVIRONMENTS = ("dev", "prod")
CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

# README "The stacks" (the workspace identity's table) and docs/data_bootstrap.md ("Access each
# identity needs"), written out here, not read from the code: (who, scope, role) for every role
# assignment of the ML platform stack. The data-bootstrap grants exist where the pipelines run
# (azurerm backend: prod).
WORKSPACE_IDENTITY = "workspace identity"
PLATFORM_GRANTS = Counter(
    {
        (WORKSPACE_IDENTITY, "storage account", "Azure AI Administrator"): 1,
        (WORKSPACE_IDENTITY, "storage account", "Storage Blob Data Contributor"): 1,
        (WORKSPACE_IDENTITY, "storage account", "Storage File Data Privileged Contributor"): 1,
        (WORKSPACE_IDENTITY, "storage private endpoint blob", "Reader"): 1,
        (WORKSPACE_IDENTITY, "storage private endpoint file", "Reader"): 1,
        (WORKSPACE_IDENTITY, "platform Key Vault", "Azure AI Administrator"): 1,
        (WORKSPACE_IDENTITY, "platform Key Vault", "Key Vault Administrator"): 1,
        (WORKSPACE_IDENTITY, "container registry", "Azure AI Administrator"): 1,
        (WORKSPACE_IDENTITY, "Application Insights", "Azure AI Administrator"): 1,
        (WORKSPACE_IDENTITY, "workspace", "Azure AI Administrator"): 1,
        (WORKSPACE_IDENTITY, "resource group", "Azure AI Enterprise Network Connection Approver"): 1,
        ("storage CMK identity", "storage encryption key", "Key Vault Crypto Service Encryption User"): 1,
    }
)
DATA_BOOTSTRAP_GRANTS = Counter(
    {
        ("data-bootstrap identity", "workspace", "AzureML Data Scientist"): 1,
        ("data-bootstrap identity", "platform Key Vault", "Key Vault Secrets User"): 1,
        ("data-bootstrap identity", "raw container", "Storage Blob Data Contributor"): 1,
    }
)
EXPECTED_GRANTS = {"dev": PLATFORM_GRANTS, "prod": PLATFORM_GRANTS + DATA_BOOTSTRAP_GRANTS}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_storage_has_no_side_doors(stacks: dict[str, Any], env: str) -> None:
    _, account = only(resources(platform(stacks, env), "azurerm_storage_account"))
    assert account["cross_tenant_replication_enabled"] is False
    assert account["local_user_enabled"] is False
    assert account["sftp_enabled"] is False
    assert account["infrastructure_encryption_enabled"] is True
    # queues and tables encrypted with the account's (customer-managed) key, not a service key
    assert account["queue_encryption_key_type"] == "Account"
    assert account["table_encryption_key_type"] == "Account"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_key_vaults_serve_no_deployment_engine(stacks: dict[str, Any], env: str) -> None:
    for vault in resources(platform(stacks, env), "azurerm_key_vault").values():
        for flag in ("enabled_for_template_deployment", "enabled_for_deployment", "enabled_for_disk_encryption"):
            assert vault.get(flag, False) is False, flag


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_registry_cannot_export_images(stacks: dict[str, Any], env: str) -> None:
    _, registry = only(resources(platform(stacks, env), "azurerm_container_registry"))
    assert registry["export_policy_enabled"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_monitoring_takes_entra_id_only_and_private_traffic_only(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    _, law = only(resources(stack, "azurerm_log_analytics_workspace"))
    assert law["local_authentication_enabled"] is False
    assert (law["internet_ingestion_enabled"], law["internet_query_enabled"]) == (False, False)
    _, insights = only(resources(stack, "azurerm_application_insights"))
    assert insights["local_authentication_disabled"] is True
    assert (insights["internet_ingestion_enabled"], insights["internet_query_enabled"]) == (False, False)
    _, scope = only(resources(stack, "azurerm_monitor_private_link_scope"))
    assert (scope["ingestion_access_mode"], scope["query_access_mode"]) == ("PrivateOnly", "PrivateOnly")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_nsg_rule_admits_internet_traffic(stacks: dict[str, Any], env: str) -> None:
    groups = resources(network(stacks, env), "azurerm_network_security_group").values()
    assert groups
    for group in groups:
        inbound = [rule for rule in group["security_rule"] if rule["direction"] == "Inbound"]
        assert {"name": "deny-internet-inbound", "access": "Deny", "priority": 4096}.items() <= next(
            rule for rule in inbound if rule["name"] == "deny-internet-inbound"
        ).items()
        allowed = [rule for rule in inbound if rule["access"] == "Allow"]
        assert not [rule for rule in allowed if rule.get("source_address_prefix") in ("Internet", "*", "0.0.0.0/0")]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_subnets_have_no_default_outbound_access(stacks: dict[str, Any], env: str) -> None:
    subnets = resources(network(stacks, env), "azurerm_subnet").values()
    assert subnets
    assert all(subnet["default_outbound_access_enabled"] is False for subnet in subnets)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_workspace_is_v2_with_its_managed_network_provisioned_at_creation(stacks: dict[str, Any], env: str) -> None:
    properties = azapi(platform(stacks, env), "Microsoft.MachineLearningServices/workspaces@")[1]["body"]["properties"]
    assert properties["v1LegacyMode"] is False
    assert properties["provisionNetworkNow"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_image_build_compute_has_no_public_ip_and_no_local_auth(stacks: dict[str, Any], env: str) -> None:
    _, compute = azapi(platform(stacks, env), "Microsoft.MachineLearningServices/workspaces/computes@")
    properties = compute["body"]["properties"]
    assert properties["disableLocalAuth"] is True
    assert properties["properties"]["enableNodePublicIp"] is False


def _principal_label(stack: dict[str, Any], principal: str) -> str:
    match = re.fullmatch(r"\$\{(data\.)?azurerm_user_assigned_identity\.([^.]+)\.principal_id\}", principal)
    assert match, principal
    is_data, logical_id = match.groups()
    if is_data:
        name = stack["data"]["azurerm_user_assigned_identity"][logical_id]["name"]
        assert "data-bootstrap" in name, name
        return "data-bootstrap identity"
    path = stack["resource"]["azurerm_user_assigned_identity"][logical_id]["//"]["metadata"]["path"]
    return {"identity": WORKSPACE_IDENTITY, "storage_encryption": "storage CMK identity"}[path.split("/")[1]]


def _scope_label(stack: dict[str, Any], scope: str) -> str:
    match = re.fullmatch(r"\$\{([a-z_]+)\.([^.]+)\.id\}", scope)
    if not match:
        assert re.fullmatch(r"\$\{data\.terraform_remote_state\.[^.]+\.outputs\.[^}]+\}", scope), scope
        return "resource group"
    resource_type, logical_id = match.groups()
    body = stack["resource"][resource_type][logical_id]
    if resource_type == "azurerm_private_endpoint":
        (subresource,) = body["private_service_connection"]["subresource_names"]
        return f"storage private endpoint {subresource}"
    if resource_type == "azurerm_key_vault":
        assert "/cmk_key_vault/" not in body["//"]["metadata"]["path"], "a grant on the CMK vault"
        return "platform Key Vault"
    if resource_type == "azapi_resource":
        return {
            "Microsoft.MachineLearningServices/workspaces": "workspace",
            "Microsoft.KeyVault/vaults/keys": "storage encryption key",
        }[body["type"].split("@")[0]]
    if resource_type == "azurerm_storage_container":
        assert body["name"] == "rawdata", body["name"]
        return "raw container"
    return {
        "azurerm_storage_account": "storage account",
        "azurerm_container_registry": "container registry",
        "azurerm_application_insights": "Application Insights",
    }[resource_type]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_role_assignments_match_the_documented_table_exactly(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    found = Counter(
        (
            _principal_label(stack, grant["principal_id"]),
            _scope_label(stack, grant["scope"]),
            grant["role_definition_name"],
        )
        for grant in resources(stack, "azurerm_role_assignment").values()
    )
    assert found == EXPECTED_GRANTS[env]


def _expected_tags(env: str) -> dict[str, str]:
    config = tomllib.loads((CONFIG_DIR / f"{env}.toml").read_text(encoding="utf-8"))
    return {
        "environment": env,
        "project": config["environment"]["project"],
        "provisioner": "cdktf",
        "owner": config["tags"]["owner"],
        "cost_center": config["tags"]["cost_center"],
        **config["tags"].get("extra", {}),
    }


def test_every_tagged_resource_carries_the_environment_tags_with_their_values(stacks: dict[str, Any]) -> None:
    """The constructs own tags (no Aspect fills them in): each must pass the stack's tags through."""
    for stack_name, stack in stacks.items():
        env = stack_name.rsplit("-", 1)[1]
        expected = _expected_tags(env)
        tagged = [(t, k, body["tags"]) for t, k, body in all_resources(stack) if "tags" in body]
        assert tagged, stack_name
        for resource_type, logical_id, tags in tagged:
            assert {key: tags.get(key) for key in expected} == expected, f"{stack_name}: {resource_type}.{logical_id}"
