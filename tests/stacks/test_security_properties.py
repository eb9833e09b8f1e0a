"""Security properties of the synthesized platform, for every environment."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ALL_STACKS
from tests.stacks.tf_json import all_resources, only, reference, resources

ENVIRONMENTS = ("dev", "prod")
REQUIRED_TAGS = {"environment", "project", "provisioner", "owner", "cost_center"}
FORBIDDEN_ROLES = {"Owner", "Contributor", "User Access Administrator"}
FORBIDDEN_ROLE_IDS = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "b24988ac-6180-49ae-bc48-b86b4ab1f0b1",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
}
# service resource type -> (subresource, private DNS zones it must register in)
EXPECTED_ENDPOINTS = {
    ("azurerm_storage_account", "blob"): {"privatelink.blob.core.windows.net"},
    ("azurerm_storage_account", "file"): {"privatelink.file.core.windows.net"},
    ("azurerm_key_vault", "vault"): {"privatelink.vaultcore.azure.net"},
    ("azurerm_container_registry", "registry"): {"privatelink.azurecr.io"},
    ("azapi_resource", "amlworkspace"): {
        "privatelink.api.azureml.ms",
        "privatelink.notebooks.azure.net",
    },
    ("azurerm_monitor_private_link_scope", "azuremonitor"): {
        "privatelink.monitor.azure.com",
        "privatelink.oms.opinsights.azure.com",
        "privatelink.ods.opinsights.azure.com",
        "privatelink.agentsvc.azure-automation.net",
        "privatelink.blob.core.windows.net",
    },
}
WORKSPACE_TYPE = "Microsoft.MachineLearningServices/workspaces@"


def platform(stacks: dict[str, Any], env: str) -> dict[str, Any]:
    return dict(stacks[f"mlplatform-{env}"])


def network(stacks: dict[str, Any], env: str) -> dict[str, Any]:
    return dict(stacks[f"network-{env}"])


def resolve_cross_stack(stacks: dict[str, Any], env: str, expression: str) -> str:
    """Follow `${data.terraform_remote_state...outputs.X}` to the network stack's expression."""
    match = re.fullmatch(r"\$\{data\.terraform_remote_state\.[^.]+\.outputs\.([^}]+)\}", expression)
    assert match, f"not a cross-stack reference: {expression}"
    return str(network(stacks, env)["output"][match.group(1)]["value"])


def zone_name(stacks: dict[str, Any], env: str, expression: str) -> str:
    target = resolve_cross_stack(stacks, env, expression)
    match = re.fullmatch(r"\$\{(data\.)?azurerm_private_dns_zone\.([^.]+)\.id\}", target)
    assert match, f"not a private DNS zone id: {target}"
    if match.group(1):  # a zone the access stack owns, looked up by name (remote-state environments)
        return str(network(stacks, env)["data"]["azurerm_private_dns_zone"][match.group(2)]["name"])
    return str(resources(network(stacks, env), "azurerm_private_dns_zone")[match.group(2)]["name"])


def azapi(stack: dict[str, Any], type_prefix: str) -> tuple[str, dict[str, Any]]:
    """The one azapi_resource of a resource type (``Namespace/type@``)."""
    return only({k: v for k, v in resources(stack, "azapi_resource").items() if v["type"].startswith(type_prefix)})


def workspace_identity_id(stack: dict[str, Any]) -> str:
    (identity_id,) = [
        key
        for key, body in resources(stack, "azurerm_user_assigned_identity").items()
        if body["//"]["metadata"]["path"].endswith("/identity/identity")
    ]
    return identity_id


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_storage_is_locked_down(stacks: dict[str, Any], env: str) -> None:
    _, account = only(resources(platform(stacks, env), "azurerm_storage_account"))
    assert account["public_network_access_enabled"] is False
    assert account["shared_access_key_enabled"] is False
    assert account["default_to_oauth_authentication"] is True
    assert account["min_tls_version"] == "TLS1_2"
    assert account["allow_nested_items_to_be_public"] is False
    assert account["https_traffic_only_enabled"] is True
    assert account["network_rules"]["default_action"] == "Deny"
    blob = account["blob_properties"]
    assert blob["versioning_enabled"] is True
    assert blob["delete_retention_policy"]["days"] >= 1
    assert blob["container_delete_retention_policy"]["days"] >= 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_bronze_and_silver_containers_are_private(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    account_id, _ = only(resources(stack, "azurerm_storage_account"))
    containers = resources(stack, "azurerm_storage_container").values()
    assert {c["name"] for c in containers} == {"rawdata", "curated"}
    for container in containers:
        assert container["container_access_type"] == "private"
        # resource-manager path: no data-plane call against a private, keyless account
        assert container["storage_account_id"] == reference("azurerm_storage_account", account_id)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_key_vaults_are_locked_down(stacks: dict[str, Any], env: str) -> None:
    vaults = resources(platform(stacks, env), "azurerm_key_vault").values()
    assert len(vaults) == 2  # the platform vault and the CMK-only vault
    for vault in vaults:
        assert vault["rbac_authorization_enabled"] is True
        assert vault["purge_protection_enabled"] is True
        assert vault["public_network_access_enabled"] is False
        assert vault["network_acls"]["default_action"] == "Deny"
        assert "access_policy" not in vault
        # dev: a destroyed name is blocked for a week, not 90 days
        assert vault["soft_delete_retention_days"] == {"dev": 7, "prod": 90}[env]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_registry_is_locked_down(stacks: dict[str, Any], env: str) -> None:
    _, registry = only(resources(platform(stacks, env), "azurerm_container_registry"))
    assert registry["sku"] == "Premium"
    assert registry["admin_enabled"] is False
    assert registry["public_network_access_enabled"] is False
    assert registry["anonymous_pull_enabled"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_workspace_is_private_hbi_and_uses_the_user_assigned_identity(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    _, workspace = azapi(stack, WORKSPACE_TYPE)
    identity_ref = reference("azurerm_user_assigned_identity", workspace_identity_id(stack))
    properties = workspace["body"]["properties"]
    assert properties["publicNetworkAccess"] == "Disabled"
    assert properties["hbiWorkspace"] is True
    assert workspace["identity"] == [{"type": "UserAssigned", "identity_ids": [identity_ref]}]
    assert properties["primaryUserAssignedIdentity"] == identity_ref
    assert properties["managedNetwork"]["isolationMode"] == "AllowOnlyApprovedOutbound"
    vault_ids = [
        k for k, v in resources(stack, "azurerm_key_vault").items() if "/key_vault/" in v["//"]["metadata"]["path"]
    ]
    for attribute, (resource_type, logical_id) in {
        "storageAccount": ("azurerm_storage_account", only(resources(stack, "azurerm_storage_account"))[0]),
        "keyVault": ("azurerm_key_vault", vault_ids[0]),
        "containerRegistry": ("azurerm_container_registry", only(resources(stack, "azurerm_container_registry"))[0]),
        "applicationInsights": (
            "azurerm_application_insights",
            only(resources(stack, "azurerm_application_insights"))[0],
        ),
    }.items():
        assert properties[attribute] == reference(resource_type, logical_id)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_system_datastores_use_identity_auth_in_the_create_request(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    _, workspace = azapi(stack, WORKSPACE_TYPE)
    # The first GA version that has the property, spelled as that version's enum spells it.
    assert workspace["type"] == "Microsoft.MachineLearningServices/workspaces@2025-06-01"
    assert workspace["body"]["properties"]["systemDatastoresAuthMode"] == "Identity"
    # a create, not a patch that azapi may drop silently; azapi's own validation stays on
    assert "azapi_update_resource" not in stack["resource"]
    assert all(r["schema_validation_enabled"] is True for r in resources(stack, "azapi_resource").values())
    assert stack["terraform"]["required_providers"]["azapi"]["source"] == "azure/azapi"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_service_has_its_private_endpoints_with_dns_zone_groups(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    found: dict[tuple[str, str], set[str]] = {}
    for endpoint in resources(stack, "azurerm_private_endpoint").values():
        connection = endpoint["private_service_connection"]
        assert connection["is_manual_connection"] is False
        target = re.fullmatch(
            r"\$\{(azurerm_[a-z_]+|azapi_resource)\.[^.]+\.id\}", connection["private_connection_resource_id"]
        )
        assert target, connection
        (subresource,) = connection["subresource_names"]
        zones = {zone_name(stacks, env, z) for z in endpoint["private_dns_zone_group"]["private_dns_zone_ids"]}
        found[(target.group(1), subresource)] = zones
        subnet = resolve_cross_stack(stacks, env, endpoint["subnet_id"])
        assert "private-endpoints" in subnet
    assert found == EXPECTED_ENDPOINTS


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_private_dns_zone_is_linked_to_the_vnet(stacks: dict[str, Any], env: str) -> None:
    stack = network(stacks, env)
    vnet_id, _ = only(resources(stack, "azurerm_virtual_network"))
    zones = resources(stack, "azurerm_private_dns_zone")
    looked_up = stack.get("data", {}).get("azurerm_private_dns_zone", {})
    links = resources(stack, "azurerm_private_dns_zone_virtual_network_link").values()
    linked = {
        link["private_dns_zone_name"]
        for link in links
        if link["virtual_network_id"] == reference("azurerm_virtual_network", vnet_id)
    }
    assert linked == {reference("azurerm_private_dns_zone", key, "name") for key in zones} | {
        reference("data.azurerm_private_dns_zone", key, "name") for key in looked_up
    }
    names = [z["name"] for z in (*zones.values(), *looked_up.values())]
    assert sorted(names) == sorted(set().union(*EXPECTED_ENDPOINTS.values()))
    # remote state: the access stack owns the blob and vault zones (in the same resource group)
    expected_looked_up = (
        {"privatelink.blob.core.windows.net", "privatelink.vaultcore.azure.net"} if env == "prod" else set()
    )
    assert {z["name"] for z in looked_up.values()} == expected_looked_up
    assert all(
        z["resource_group_name"]
        == f"${{data.azurerm_resource_group.{only(stack['data']['azurerm_resource_group'])[0]}.name}}"
        for z in looked_up.values()
    )
    assert all(link["registration_enabled"] is False for link in links)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_subnet_has_its_own_nsg(stacks: dict[str, Any], env: str) -> None:
    stack = network(stacks, env)
    subnets = resources(stack, "azurerm_subnet")
    associations = resources(stack, "azurerm_subnet_network_security_group_association").values()
    assert {s["name"] for s in subnets.values()} == {"snet-private-endpoints", "snet-compute"}
    assert {a["subnet_id"] for a in associations} == {reference("azurerm_subnet", key) for key in subnets}
    assert len({a["network_security_group_id"] for a in associations}) == len(subnets)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_broad_role_assignments(stacks: dict[str, Any], env: str) -> None:
    assignments = resources(platform(stacks, env), "azurerm_role_assignment").values()
    assert assignments
    for assignment in assignments:
        assert assignment.get("role_definition_name") not in FORBIDDEN_ROLES
        assert not any(role_id in str(assignment.get("role_definition_id", "")) for role_id in FORBIDDEN_ROLE_IDS)
        if assignment["role_definition_name"] == "Azure AI Enterprise Network Connection Approver":
            # the one resource-group grant: it only approves private endpoint connections
            assert resolve_cross_stack(stacks, env, assignment["scope"]).startswith("${data.azurerm_resource_group.")
            continue
        # scoped to one resource of this stack, never a subscription or resource group
        assert re.fullmatch(r"\$\{(azurerm|azapi)_[a-z_]+\.[^.]+\.id\}", assignment["scope"]), assignment["scope"]
        assert "resource_group" not in assignment["scope"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_storage_is_encrypted_with_a_rotating_customer_managed_key(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    key_id, key = azapi(stack, "Microsoft.KeyVault/vaults/keys@")
    (vault_id,) = [
        k for k, v in resources(stack, "azurerm_key_vault").items() if "/cmk_key_vault/" in v["//"]["metadata"]["path"]
    ]
    assert key["parent_id"] == reference("azurerm_key_vault", vault_id)
    properties = key["body"]["properties"]
    assert properties["kty"] == "RSA" and properties["keySize"] >= 3072
    assert properties["rotationPolicy"]["lifetimeActions"][0]["action"]["type"] == "rotate"
    _, account = only(resources(stack, "azurerm_storage_account"))
    cmk = account["customer_managed_key"]
    assert cmk["key_vault_key_id"] == reference("azapi_resource", key_id, "output.properties.keyUri")
    assert account["identity"] == {"type": "UserAssigned", "identity_ids": [cmk["user_assigned_identity_id"]]}
    ((grant_id, grant),) = [
        (k, g)
        for k, g in resources(stack, "azurerm_role_assignment").items()
        if g["scope"] == reference("azapi_resource", key_id)
    ]
    assert grant["role_definition_name"] == "Key Vault Crypto Service Encryption User"
    assert grant["principal_id"] == cmk["user_assigned_identity_id"].replace(".id}", ".principal_id}")
    # the account waits for the grant to propagate (see test_first_apply.py)
    (wait,) = [
        w for w in resources(stack, "time_sleep").values() if f"azurerm_role_assignment.{grant_id}" in w["depends_on"]
    ]
    assert f"time_sleep.{wait['//']['metadata']['uniqueId']}" in account["depends_on"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_diagnostic_settings_reach_log_analytics(stacks: dict[str, Any], env: str) -> None:
    stack = platform(stacks, env)
    law_id, _ = only(resources(stack, "azurerm_log_analytics_workspace"))
    targets = set()
    for setting in resources(stack, "azurerm_monitor_diagnostic_setting").values():
        assert setting["log_analytics_workspace_id"] == reference("azurerm_log_analytics_workspace", law_id)
        targets.add(re.sub(r"\.[^.]+\.id\}", "}", setting["target_resource_id"]))
    assert {
        "${azurerm_key_vault}",
        "${azurerm_storage_account}",
        "${azurerm_storage_account}/blobServices/default",
        "${azurerm_storage_account}/fileServices/default",
        "${azurerm_storage_account}/queueServices/default",
        "${azurerm_storage_account}/tableServices/default",
        "${azurerm_container_registry}",
        "${azapi_resource}",
    } <= targets


@pytest.mark.parametrize("stack_name", ALL_STACKS)
def test_every_taggable_resource_carries_the_required_tags(stacks: dict[str, Any], stack_name: str) -> None:
    env = stack_name.rsplit("-", 1)[1]
    untagged_types = set()
    for resource_type, logical_id, body in all_resources(stacks[stack_name]):
        if "tags" not in body:
            untagged_types.add(resource_type)
            continue
        assert set(body["tags"]) >= REQUIRED_TAGS, f"{resource_type}.{logical_id}"
        assert body["tags"]["environment"] == env
    # these azurerm resource types have no tags argument at all
    assert untagged_types <= {
        "azurerm_subnet",
        "azurerm_subnet_network_security_group_association",
        "azurerm_role_assignment",
        "azurerm_monitor_diagnostic_setting",
        "azurerm_storage_container",
        "azurerm_monitor_private_link_scoped_service",
        "time_sleep",
        "azurerm_virtual_network_peering",
        "azurerm_federated_identity_credential",
        "azurerm_role_definition",
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_outputs_for_the_bootstrap_are_present_and_not_secret(stacks: dict[str, Any], env: str) -> None:
    outputs = platform(stacks, env)["output"]
    assert set(outputs) == {
        "subscription_id",
        "tenant_id",
        "location",
        "resource_group_name",
        "workspace_name",
        "workspace_id",
        "storage_account_name",
        "raw_container_name",
        "curated_container_name",
        "key_vault_name",
        "key_vault_uri",
        "container_registry_name",
        "identity_client_id",
        "identity_principal_id",
    }
    assert not any(output.get("sensitive") for output in outputs.values())


def test_prod_uses_remote_state_and_dev_local_state(stacks: dict[str, Any]) -> None:
    for stack_name, stack in stacks.items():
        backend = stack["terraform"]["backend"]
        if stack_name.endswith("-prod"):
            assert backend["azurerm"]["use_azuread_auth"] is True
            assert backend["azurerm"]["key"] == f"{stack_name}.tfstate"
        else:
            assert backend == {"local": {"path": f"../../../terraform-state/{stack_name}.tfstate"}}
