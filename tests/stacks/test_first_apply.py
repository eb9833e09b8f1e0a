"""Settings the first `terraform apply` on real Azure depends on (issue 11), for every environment.

Each test pins one fix in the synthesized JSON; the reason and source sit next to the code
that declares it (stacks/).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from main import REPO_CONFIG_DIR, load_configs
from tests.stacks.test_security_properties import (
    ENVIRONMENTS,
    WORKSPACE_TYPE,
    azapi,
    network,
    platform,
    resolve_cross_stack,
    workspace_identity_id,
    zone_name,
)
from tests.stacks.tf_json import all_resources, only, reference, resources

CONFIGS = {config.name: config for config in load_configs("all", REPO_CONFIG_DIR)}
# Resource types that make Terraform call a storage or Key Vault data plane.
DATA_PLANE_TYPES = {
    "azurerm_storage_blob",
    "azurerm_storage_queue",
    "azurerm_storage_table",
    "azurerm_storage_share",
    "azurerm_storage_share_directory",
    "azurerm_storage_data_lake_gen2_filesystem",
    "azurerm_storage_account_static_website",
    "azurerm_storage_account_queue_properties",
    "azurerm_key_vault_secret",
    "azurerm_key_vault_key",
    "azurerm_key_vault_certificate",
}


def grants_by_role(stack: dict[str, Any]) -> dict[str, set[str]]:
    """Role -> scopes (with logical IDs collapsed) for the workspace identity."""
    identity = reference("azurerm_user_assigned_identity", workspace_identity_id(stack), "principal_id")
    found: dict[str, set[str]] = {}
    for grant in resources(stack, "azurerm_role_assignment").values():
        if grant["principal_id"] == identity:
            scope = re.sub(r"\.[^.]+\.id\}$", "}", grant["scope"])
            found.setdefault(grant["role_definition_name"], set()).add(scope)
    return found


def wait_for(stack: dict[str, Any], dependent: dict[str, Any]) -> dict[str, Any]:
    """The time_sleep a resource depends on."""
    (wait_id,) = [d.split(".", 1)[1] for d in dependent.get("depends_on", []) if d.startswith("time_sleep.")]
    return dict(resources(stack, "time_sleep")[wait_id])


# --- item 1: Terraform never touches a data plane ---------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_terraform_never_touches_a_data_plane(stacks: dict[str, Any], env: str) -> None:
    for stack in (platform(stacks, env), network(stacks, env)):
        for provider in stack["provider"]["azurerm"]:  # prod's network stack has a runner-VNet alias too
            assert provider["features"][0]["storage"] == [{"data_plane_available": False}]
            assert provider["storage_use_azuread"] is True
        assert not DATA_PLANE_TYPES & set(stack.get("resource", {}))
    _, account = only(resources(platform(stacks, env), "azurerm_storage_account"))
    # azurerm refuses these with data_plane_available = false
    assert "queue_properties" not in account and "static_website" not in account


# --- item 2 and 5: workspace created with the right body ------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_managed_network_is_provisioned_at_creation_with_the_configured_fqdn_rules(
    stacks: dict[str, Any], env: str
) -> None:
    _, workspace = azapi(platform(stacks, env), WORKSPACE_TYPE)
    properties = workspace["body"]["properties"]
    assert properties["provisionNetworkNow"] is True
    managed = properties["managedNetwork"]
    expected = CONFIGS[env].workspace.outbound_fqdn_rules
    assert managed["outboundRules"] == {
        name: {"type": "FQDN", "category": "UserDefined", "destination": fqdn} for name, fqdn in expected.items()
    }
    assert {"pypi.org", "*.pythonhosted.org"} <= set(expected.values())
    assert managed["firewallSku"] == CONFIGS[env].workspace.firewall_sku


# --- item 3: grants Azure ML documents for a user-assigned identity ----------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_workspace_identity_holds_the_documented_grants(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    grants = grants_by_role(stack)
    assert grants["Azure AI Administrator"] == {
        "${azurerm_storage_account}",
        "${azurerm_key_vault}",
        "${azurerm_container_registry}",
        "${azurerm_application_insights}",
        "${azapi_resource}",  # the workspace itself
    }
    (approver_scope,) = grants["Azure AI Enterprise Network Connection Approver"]
    # the platform resource group (created by the access stack, looked up by the network stack)
    assert resolve_cross_stack(stacks, env, approver_scope).startswith("${data.azurerm_resource_group.")
    # Reader on the storage private endpoints (studio data preview with public access off)
    storage_id, _ = only(resources(stack, "azurerm_storage_account"))
    storage_endpoints = {
        f"${{azurerm_private_endpoint.{key}.id}}"
        for key, e in resources(stack, "azurerm_private_endpoint").items()
        if e["private_service_connection"]["private_connection_resource_id"]
        == reference("azurerm_storage_account", storage_id)
    }
    readers = {
        g["scope"]
        for g in resources(stack, "azurerm_role_assignment").values()
        if g["role_definition_name"] == "Reader"
    }
    assert len(storage_endpoints) == 2 and readers == storage_endpoints


# --- item 4: image builds on a cluster in the managed network --------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_image_build_cluster_is_declared_wired_and_locked_down(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    workspace_id, workspace = azapi(stack, WORKSPACE_TYPE)
    _, cluster = azapi(stack, "Microsoft.MachineLearningServices/workspaces/computes@")
    compute = CONFIGS[env].compute
    assert workspace["body"]["properties"]["imageBuildCompute"] == cluster["name"] == compute.image_build_cluster
    assert cluster["parent_id"] == reference("azapi_resource", workspace_id)
    identity_ref = reference("azurerm_user_assigned_identity", workspace_identity_id(stack))
    assert cluster["identity"] == [{"type": "UserAssigned", "identity_ids": [identity_ref]}]
    body = cluster["body"]["properties"]
    assert body["computeType"] == "AmlCompute" and body["disableLocalAuth"] is True
    aml = body["properties"]
    assert aml["enableNodePublicIp"] is False
    assert aml["remoteLoginPortPublicAccess"] == "Disabled"
    assert aml["vmSize"] == compute.vm_size
    assert aml["scaleSettings"] == {
        "minNodeCount": 0,
        "maxNodeCount": compute.max_nodes,
        "nodeIdleTimeBeforeScaleDown": f"PT{compute.idle_minutes_before_scale_down}M",
    }


# --- item 6: RBAC propagation ------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_grants_propagate_before_their_dependents_run(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    seconds = f"{CONFIGS[env].workspace.rbac_propagation_seconds}s"
    identity = reference("azurerm_user_assigned_identity", workspace_identity_id(stack), "principal_id")
    grants = resources(stack, "azurerm_role_assignment")
    _, workspace = azapi(stack, WORKSPACE_TYPE)
    before_workspace = {
        f"azurerm_role_assignment.{key}"
        for key, grant in grants.items()
        if grant["principal_id"] == identity
        and "azapi_resource" not in grant["scope"]
        and grant["role_definition_name"] != "Reader"
    }
    workspace_wait = wait_for(stack, workspace)
    assert len(before_workspace) == 8 and before_workspace <= set(workspace_wait["depends_on"])
    _, cluster = azapi(stack, "Microsoft.MachineLearningServices/workspaces/computes@")
    _, account = only(resources(stack, "azurerm_storage_account"))
    for wait in (workspace_wait, wait_for(stack, cluster), wait_for(stack, account)):
        assert wait["create_duration"] == seconds
        # a replaced grant waits again
        assert set(wait["triggers"].values()) == {f"${{{d}.id}}" for d in wait["depends_on"]}
    for resource_type, logical_id, body in all_resources(stack):
        if resource_type != "time_sleep":
            direct = [d for d in body.get("depends_on", []) if d.startswith("azurerm_role_assignment.")]
            assert not direct, f"{resource_type}.{logical_id} depends on {direct} without a wait"


# --- item 7: the CMK vault is out of every workload's reach -----------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_customer_managed_key_lives_in_a_vault_no_workload_can_touch(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    key_id, key = azapi(stack, "Microsoft.KeyVault/vaults/keys@")
    _, workspace = azapi(stack, WORKSPACE_TYPE)
    cmk_vault = key["parent_id"]
    assert workspace["body"]["properties"]["keyVault"] != cmk_vault
    scopes = {g["scope"]: g["role_definition_name"] for g in resources(stack, "azurerm_role_assignment").values()}
    assert cmk_vault not in scopes
    assert scopes[reference("azapi_resource", key_id)] == "Key Vault Crypto Service Encryption User"


# --- item 8: queues and tables under the CMK --------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_queues_and_tables_use_the_account_key(stacks: dict[str, Any], env: str) -> None:
    _, account = only(resources(platform(stacks, env), "azurerm_storage_account"))
    assert account["queue_encryption_key_type"] == "Account"
    assert account["table_encryption_key_type"] == "Account"


# --- item 9: monitoring is private ------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_monitoring_is_reached_only_through_a_private_link_scope(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    law_id, law = only(resources(stack, "azurerm_log_analytics_workspace"))
    appi_id, appi = only(resources(stack, "azurerm_application_insights"))
    for component in (law, appi):
        assert component["internet_ingestion_enabled"] is False
        assert component["internet_query_enabled"] is False
    assert law["local_authentication_enabled"] is False
    assert appi["local_authentication_disabled"] is True  # no instrumentation-key ingestion
    scope_id, scope = only(resources(stack, "azurerm_monitor_private_link_scope"))
    assert scope["ingestion_access_mode"] == "PrivateOnly" and scope["query_access_mode"] == "PrivateOnly"
    linked = {s["linked_resource_id"] for s in resources(stack, "azurerm_monitor_private_link_scoped_service").values()}
    assert linked == {
        reference("azurerm_log_analytics_workspace", law_id),
        reference("azurerm_application_insights", appi_id),
    }
    (endpoint,) = [
        e
        for e in resources(stack, "azurerm_private_endpoint").values()
        if e["private_service_connection"]["private_connection_resource_id"]
        == reference("azurerm_monitor_private_link_scope", scope_id)
    ]
    assert endpoint["private_service_connection"]["subresource_names"] == ["azuremonitor"]
    zones = {zone_name(stacks, env, z) for z in endpoint["private_dns_zone_group"]["private_dns_zone_ids"]}
    assert "privatelink.blob.core.windows.net" in zones and len(zones) == 5


# --- item 10: no perpetual diagnostic-setting diffs -------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_storage_diagnostics_name_the_metric_categories_azure_returns(stacks: dict[str, Any], env: str) -> None:
    storage_settings = [
        s
        for s in resources(platform(stacks, env), "azurerm_monitor_diagnostic_setting").values()
        if s["target_resource_id"].startswith("${azurerm_storage_account.")
    ]
    assert len(storage_settings) == 5  # the account and its four services
    for setting in storage_settings:
        assert sorted(m["category"] for m in setting["enabled_metric"]) == ["Capacity", "Transaction"]


# --- item 12: the key cannot be destroyed by accident ----------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_key_vault_key_fails_at_plan_not_half_way_through_a_destroy(stacks: dict[str, Any], env: str) -> None:
    _, key = azapi(platform(stacks, env), "Microsoft.KeyVault/vaults/keys@")
    assert key["lifecycle"] == {"prevent_destroy": True}


# --- item 13: collision-resistant global names ------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_globally_unique_names_carry_the_configured_suffix(stacks: dict[str, Any], env: str) -> None:
    stack, names = platform(stacks, env), CONFIGS[env].names
    assert names.unique_suffix
    found = {
        body["name"]
        for resource_type in ("azurerm_storage_account", "azurerm_key_vault", "azurerm_container_registry")
        for body in resources(stack, resource_type).values()
    }
    assert found == {
        f"{base}{names.unique_suffix}"
        for base in (names.storage_account, names.key_vault, names.cmk_key_vault, names.container_registry)
    }


# --- item 14: providers pinned exactly --------------------------------------------------------


# azapi 2.12.0 ships the type definitions the preflight checks bodies against (both lanes); the
# prebuilt bindings pin azurerm and time (stacks/framework.py, docs/cdktn-lane.md).
PROVIDER_VERSIONS = {
    "cdktf": {"azapi": "2.12.0", "azurerm": "4.55.0", "time": "0.13.1"},
    "cdktn": {"azapi": "2.12.0", "azurerm": "4.81.0", "time": "0.14.2"},
}


def test_every_provider_is_pinned_exactly(stacks: dict[str, Any], request: pytest.FixtureRequest) -> None:
    for stack in stacks.values():
        for name, requirement in stack["terraform"]["required_providers"].items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", requirement["version"]), (name, requirement)
    required = platform(stacks, "dev")["terraform"]["required_providers"]
    lane = request.node.callspec.params["stacks"]
    assert {name: r["version"] for name, r in required.items()} == PROVIDER_VERSIONS[lane]
