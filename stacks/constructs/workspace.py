"""Azure ML workspace: private, HBI, user-assigned identity, identity-based system datastores,
managed network provisioned at creation with approved FQDN rules, image builds on a cluster.

Declared as ``azapi_resource`` (the Azure Verified Modules pattern,
Azure/terraform-azurerm-avm-res-machinelearningservices-workspace ``main.tf``) because
``azurerm_machine_learning_workspace`` 4.55 cannot set ``systemDatastoresAuthMode``
(terraform-provider-azurerm issue 22150), and Microsoft documents that the mode must be set at
creation, before shared keys are disabled (azure-ai-docs
``articles/machine-learning/how-to-disable-local-auth-storage.md``). An ``azapi_update_resource``
after the fact on 2024-10-01 was a silent no-op: that version has no such property.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from constructs import Construct

from stacks.constructs.avm_interfaces import declare_interfaces
from stacks.constructs.azapi import attribute, azapi_resource
from stacks.framework import ITerraformDependable, TerraformProvider
from stacks.interfaces import CommonProps, ManagedIdentitiesSpec

# First GA version with systemDatastoresAuthMode (enum 'AccessKey' | 'Identity' |
# 'UserDelegationSAS'): ../shared/azure-types/microsoft.machinelearningservices/2025-06-01.
WORKSPACE_API_TYPE = "Microsoft.MachineLearningServices/workspaces@2025-06-01"


@dataclass(frozen=True, kw_only=True)
class WorkspaceProps(CommonProps):
    name: str
    resource_group_id: str
    application_insights_id: str
    key_vault_id: str
    storage_account_id: str
    container_registry_id: str
    managed_identities: ManagedIdentitiesSpec
    managed_network_isolation_mode: str
    high_business_impact: bool
    image_build_compute_name: str
    outbound_fqdn_rules: Mapping[str, str] = field(default_factory=dict)
    firewall_sku: str = "Standard"


def workspace_body(props: WorkspaceProps) -> dict[str, object]:
    """The create request: everything that must be right at creation is in it."""
    identity_ids = props.managed_identities.user_assigned_resource_ids
    managed_network: dict[str, object] = {"isolationMode": props.managed_network_isolation_mode}
    if props.managed_network_isolation_mode == "AllowOnlyApprovedOutbound" and props.outbound_fqdn_rules:
        # FQDN rules are served by an Azure Firewall in the managed network, billed per hour and
        # GB (how-to-managed-network.md, "Pricing"; "Select an Azure Firewall version").
        managed_network["outboundRules"] = {
            name: {"type": "FQDN", "category": "UserDefined", "destination": fqdn}
            for name, fqdn in sorted(props.outbound_fqdn_rules.items())
        }
        managed_network["firewallSku"] = props.firewall_sku
    return {
        "kind": "Default",
        "sku": {"name": "Basic", "tier": "Basic"},
        "properties": {
            "friendlyName": props.name,
            "storageAccount": props.storage_account_id,
            "keyVault": props.key_vault_id,
            "applicationInsights": props.application_insights_id,
            "containerRegistry": props.container_registry_id,
            "hbiWorkspace": props.high_business_impact,
            "publicNetworkAccess": "Disabled",
            "v1LegacyMode": False,
            "primaryUserAssignedIdentity": identity_ids[0],
            # Keyless system datastores, set in the create request.
            "systemDatastoresAuthMode": "Identity",
            # A registry behind a private endpoint cannot build images; a cluster in the managed
            # network does (how-to-managed-network.md, "Configure image builds"). A name, not a
            # reference, as in AVM (variables.tf image_build_compute): the cluster is a child of
            # the workspace and is created right after it.
            "imageBuildCompute": props.image_build_compute_name,
            # Provision the managed network now, not at the first compute (azurerm's
            # provision_on_creation_enabled; how-to-managed-network.md, "Manually provision").
            "provisionNetworkNow": True,
            "managedNetwork": managed_network,
        },
    }


class PlatformWorkspace(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: WorkspaceProps,
        azapi_provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.workspace = azapi_resource(
            self,
            "workspace",
            provider=azapi_provider,
            type_=WORKSPACE_API_TYPE,
            name=props.name,
            parent_id=props.resource_group_id,
            location=props.location,
            body=workspace_body(props),
            user_assigned_identity_ids=props.managed_identities.user_assigned_resource_ids,
            tags=props.tags,
            # The identity's grants on the linked resources (and their propagation wait) must
            # exist before the workspace validates them at creation.
            depends_on=depends_on,
        )
        self.id = attribute(self.workspace, "id")
        self.name = attribute(self.workspace, "name")
        self.private_endpoints, self.role_assignments, _ = declare_interfaces(
            self, resource_id=self.id, resource_name=props.name, props=props
        )
