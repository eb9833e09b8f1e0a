"""Azure ML workspace: private, HBI, user-assigned identity, keyless system datastores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformProvider, TerraformResource
from cdktf_cdktf_provider_azurerm.machine_learning_workspace import (
    MachineLearningWorkspace,
    MachineLearningWorkspaceIdentity,
    MachineLearningWorkspaceManagedNetwork,
)
from constructs import Construct

from stacks.constructs.avm_interfaces import declare_interfaces
from stacks.interfaces import CommonProps, ManagedIdentitiesSpec

# The azurerm workspace resource cannot set the system datastores' auth mode
# (terraform-provider-azurerm issue 22150); AVM sets it with azapi, as we do.
WORKSPACE_API_TYPE = "Microsoft.MachineLearningServices/workspaces@2024-10-01"


@dataclass(frozen=True, kw_only=True)
class WorkspaceProps(CommonProps):
    name: str
    application_insights_id: str
    key_vault_id: str
    storage_account_id: str
    container_registry_id: str
    managed_identities: ManagedIdentitiesSpec
    managed_network_isolation_mode: str
    high_business_impact: bool


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
        identity_ids = list(props.managed_identities.user_assigned_resource_ids)
        self.workspace = MachineLearningWorkspace(
            self,
            "workspace",
            name=props.name,
            location=props.location,
            resource_group_name=props.resource_group_name,
            sku_name="Basic",
            application_insights_id=props.application_insights_id,
            key_vault_id=props.key_vault_id,
            storage_account_id=props.storage_account_id,
            container_registry_id=props.container_registry_id,
            identity=MachineLearningWorkspaceIdentity(
                type="SystemAssigned, UserAssigned" if props.managed_identities.system_assigned else "UserAssigned",
                identity_ids=identity_ids,
            ),
            primary_user_assigned_identity=identity_ids[0],
            public_network_access_enabled=False,
            high_business_impact=props.high_business_impact,
            v1_legacy_mode_enabled=False,
            managed_network=MachineLearningWorkspaceManagedNetwork(isolation_mode=props.managed_network_isolation_mode),
            tags=dict(props.tags),
            # The identity's grants on the linked resources must exist before
            # the workspace validates them at creation.
            depends_on=list(depends_on),
        )
        self.private_endpoints, self.role_assignments, _ = declare_interfaces(
            self, resource_id=self.workspace.id, resource_name=props.name, props=props
        )
        self.keyless_datastores = TerraformResource(
            self,
            "system_datastores_identity_auth",
            terraform_resource_type="azapi_update_resource",
            provider=azapi_provider,
        )
        self.keyless_datastores.add_override("type", WORKSPACE_API_TYPE)
        self.keyless_datastores.add_override("resource_id", self.workspace.id)
        self.keyless_datastores.add_override("body", {"properties": {"systemDatastoresAuthMode": "identity"}})
