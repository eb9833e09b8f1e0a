"""What the deployer identity (``infra-apply``) may do, and the built-in roles the grants use.

Pure data (no cdktf), so tests can compare it with the synthesized stacks: the resource providers
of every resource the network and ML platform stacks declare, and every role they assign, must
equal what is listed here (tests/stacks/test_access_properties.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from stacks.config import EnvironmentConfig

# Built-in role definition IDs (the same in every tenant), from "Azure built-in roles":
# https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
BUILTIN_ROLE_IDS: dict[str, str] = {
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Azure AI Administrator": "b78c5d69-af96-48a3-bf8d-a8b4d589de94",
    "Azure AI Enterprise Network Connection Approver": "b556d68e-0be0-4f35-a333-ad7ee1ce17ea",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage File Data Privileged Contributor": "69566ab7-960f-475b-8e7c-b3118f30c6bd",
}

# Resource provider namespace of every resource type the deployer's stacks declare. A type
# missing here fails the test, so a new service cannot slip past the deployer role unnoticed.
# azurerm_role_assignment is Microsoft.Authorization: granted through the conditioned RBAC
# Administrator assignment, never through the custom role. ``time_sleep`` (hashicorp/time, the RBAC
# propagation waits) creates nothing in Azure.
RESOURCE_PROVIDER_OF_TYPE: dict[str, str] = {
    "azurerm_application_insights": "Microsoft.Insights",
    "azurerm_monitor_diagnostic_setting": "Microsoft.Insights",
    "azurerm_monitor_private_link_scope": "Microsoft.Insights",
    "azurerm_monitor_private_link_scoped_service": "Microsoft.Insights",
    "azurerm_log_analytics_workspace": "Microsoft.OperationalInsights",
    "azurerm_container_registry": "Microsoft.ContainerRegistry",
    "azurerm_key_vault": "Microsoft.KeyVault",
    "azurerm_storage_account": "Microsoft.Storage",
    "azurerm_storage_container": "Microsoft.Storage",
    "azurerm_user_assigned_identity": "Microsoft.ManagedIdentity",
    "azurerm_network_security_group": "Microsoft.Network",
    "azurerm_private_dns_zone": "Microsoft.Network",
    "azurerm_private_dns_zone_virtual_network_link": "Microsoft.Network",
    "azurerm_private_endpoint": "Microsoft.Network",
    "azurerm_subnet": "Microsoft.Network",
    "azurerm_subnet_network_security_group_association": "Microsoft.Network",
    "azurerm_virtual_network": "Microsoft.Network",
    "azurerm_virtual_network_peering": "Microsoft.Network",
    "azurerm_role_assignment": "Microsoft.Authorization",
}

# The custom deployer role allows everything in these namespaces, at the platform resource group
# only. azapi resources count by their ARM type (Microsoft.KeyVault/vaults/keys,
# Microsoft.MachineLearningServices/workspaces), already covered.
DEPLOYER_RESOURCE_PROVIDERS: tuple[str, ...] = (
    "Microsoft.ContainerRegistry",
    "Microsoft.Insights",
    "Microsoft.KeyVault",
    "Microsoft.MachineLearningServices",
    "Microsoft.ManagedIdentity",
    "Microsoft.Network",
    "Microsoft.OperationalInsights",
    "Microsoft.Storage",
)
# Reading the resource group it deploys into (the network stack looks it up by name).
DEPLOYER_EXTRA_ACTIONS: tuple[str, ...] = ("Microsoft.Resources/subscriptions/resourceGroups/read",)

# Every role the network and ML platform stacks assign; the deployer may assign these and no
# other (ABAC condition on its Role Based Access Control Administrator assignment).
DEPLOYER_ASSIGNABLE_ROLES: tuple[str, ...] = (
    "Azure AI Administrator",
    "Azure AI Enterprise Network Connection Approver",
    "AzureML Data Scientist",
    "Key Vault Administrator",
    "Key Vault Crypto Service Encryption User",
    "Key Vault Secrets User",
    "Reader",
    "Storage Blob Data Contributor",
    "Storage File Data Privileged Contributor",
)

# What the deployer needs on the runner (AKS) VNet to peer it with the platform VNet and to link
# the platform's private DNS zones to it: "Permissions" in
# https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering#permissions
# (virtualNetworkPeerings write/delete, peer/action) and
# https://learn.microsoft.com/azure/dns/dns-protect-private-zones-recordsets (a zone's VNet link
# needs virtualNetworks/join/action on the linked VNet).
RUNNER_NETWORK_ACTIONS: tuple[str, ...] = (
    "Microsoft.Network/virtualNetworks/read",
    "Microsoft.Network/virtualNetworks/peer/action",
    "Microsoft.Network/virtualNetworks/join/action",
    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/read",
    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/write",
    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/delete",
)


# Approving the private endpoint connection that Snowflake's outbound private link creates on the
# platform storage account (unload engine; docs/access.md, "Snowflake unload"): list the
# connections, then PUT the one from Snowflake with status Approved. Action names from "Azure
# resource provider operations", Microsoft.Storage
# (azure-docs articles/role-based-access-control/includes/resource-provider-operations/storage.md:
# privateEndpointConnections/read "List/Get Private Endpoint Connection", /write "Put Private
# Endpoint Connection"); Microsoft's own approver role lists the same two for storage
# (built-in-roles/ai-machine-learning.md, "Azure AI Enterprise Network Connection Approver").
# Not included: storageAccounts/PrivateEndpointConnectionsApproval/action, which the *creator*
# of an endpoint needs for automatic approval ("Approval RBAC for private endpoint",
# azure-docs articles/private-link/rbac-permissions.md), not the owner approving by hand; nor
# privateLinkResources/read, which listing and approving do not call. storageAccounts/read ("Returns
# the list of storage accounts or gets the properties for the specified storage account", same
# operations page) is in: before approving, data_bootstrap reads the account and refuses to run the
# unload if its public endpoint, network default or shared keys are open
# (data_bootstrap/azure/private_endpoints.py, public_access_problems).
PRIVATE_ENDPOINT_APPROVER_ACTIONS: tuple[str, ...] = (
    "Microsoft.Storage/storageAccounts/read",
    "Microsoft.Storage/storageAccounts/privateEndpointConnections/read",
    "Microsoft.Storage/storageAccounts/privateEndpointConnections/write",
)
# Custom role IDs are GUIDs chosen by whoever creates the role; a name-based UUID makes the ID known
# before apply, so the deployer's ABAC condition can name it (the condition compares GUIDs).
CUSTOM_ROLE_NAMESPACE = uuid.UUID("5b0d9d0e-3c4a-5f6e-9a1b-6c0f8e2d4a17")


def unload_approval_needed(config: EnvironmentConfig) -> bool:
    """The data-bootstrap identity approves Snowflake's endpoint: unload engine, and an identity exists."""
    return config.data_asset.engine == "unload" and config.backend.type == "azurerm"


def private_endpoint_approver_role_name(config: EnvironmentConfig) -> str:
    return f"{config.environment.project} storage private endpoint approver ({config.name})"


def private_endpoint_approver_role_id(config: EnvironmentConfig) -> str:
    """The custom role's GUID, the same in the access stack (definition) and the platform stack (assignment)."""
    return str(uuid.uuid5(CUSTOM_ROLE_NAMESPACE, f"{config.environment.project}/{config.name}/storage-pe-approver"))


def deployer_custom_role_ids(config: EnvironmentConfig) -> tuple[str, ...]:
    """Custom roles the network and ML platform stacks assign (by GUID): the deployer may assign these too."""
    return (private_endpoint_approver_role_id(config),) if unload_approval_needed(config) else ()


def deployer_actions() -> list[str]:
    return [f"{namespace}/*" for namespace in DEPLOYER_RESOURCE_PROVIDERS] + list(DEPLOYER_EXTRA_ACTIONS)


def role_assignment_condition(role_names: Iterable[str], custom_role_ids: Iterable[str] = ()) -> str:
    """ABAC condition (version 2.0): write and delete role assignments only of these roles, to service principals.

    The shape is Microsoft's "Constrain roles and principal types" example:
    https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-examples
    (write: request attributes RoleDefinitionId and PrincipalType; delete: resource attribute
    RoleDefinitionId, https://learn.microsoft.com/azure/role-based-access-control/conditions-authorization-actions-attributes).
    The same assignment's role, Role Based Access Control Administrator, also grants ``*/read``,
    which the deployer needs to resolve role names and read what it manages.
    """
    ids = ", ".join([BUILTIN_ROLE_IDS[name] for name in sorted(role_names)] + sorted(custom_role_ids))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}} "
        "AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] "
        "ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'})) AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}}))"
    )
