"""Deployment unit 2: identity, monitoring, storage, Key Vaults, registry, AML workspace, compute.

Each service's wiring reads in one method; ``__init__`` only says in which order they are
declared and what each one needs from the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from constructs import Construct

from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.constructs.avm_interfaces import declare_role_assignments
from stacks.constructs.compute import ComputeClusterProps, ImageBuildCluster
from stacks.constructs.data_bootstrap_access import grant_data_bootstrap
from stacks.constructs.encryption_key import CustomerManagedKey
from stacks.constructs.identity import WorkloadIdentity
from stacks.constructs.key_vault import KeyVaultProps, PlatformKeyVault
from stacks.constructs.monitoring import Monitoring, MonitoringProps
from stacks.constructs.rbac_wait import propagation_wait
from stacks.constructs.registry import PlatformRegistry, RegistryProps
from stacks.constructs.storage import CustomerManagedKeySpec, PlatformStorage, StorageProps
from stacks.constructs.unload_access import grant_snowflake_integration
from stacks.constructs.workspace import PlatformWorkspace, WorkspaceProps
from stacks.framework import DataAzurermClientConfig, RoleAssignment, Sleep, TerraformOutput
from stacks.interfaces import (
    DiagnosticSettingsSpec,
    ManagedIdentitiesSpec,
    PrivateEndpointSpec,
    RoleAssignmentSpec,
)
from stacks.network_stack import NetworkStack

# Roles the workspace's user-assigned identity needs, from "Set up authentication between Azure
# Machine Learning and other services", section "User-assigned managed identity > Workspace"
# (azure-ai-docs articles/machine-learning/how-to-identity-based-service-authentication.md).
# The page asks for "Contributor" on the workspace and on the control plane of storage, Key
# Vault, registry and Application Insights. Contributor is forbidden here (GR001), so the
# control-plane grant is the built-in "Azure AI Administrator", scoped to each resource only. It
# is NOT narrow inside that scope (it holds e.g. Microsoft.Storage/storageAccounts/* and
# Microsoft.KeyVault/*: built-in-roles/ai-machine-learning.md#azure-ai-administrator); README
# "The stacks" explains the trade and why the storage CMK lives in a vault it cannot touch.
CONTROL_PLANE_ROLE = "Azure AI Administrator"
IDENTITY_ROLES: dict[str, dict[str, str]] = {
    "storage": {
        "control-plane": CONTROL_PLANE_ROLE,
        "blob-data": "Storage Blob Data Contributor",
        "file-data": "Storage File Data Privileged Contributor",
    },
    "key_vault": {"control-plane": CONTROL_PLANE_ROLE, "data-plane": "Key Vault Administrator"},
    "registry": {"control-plane": CONTROL_PLANE_ROLE},
    "application_insights": {"control-plane": CONTROL_PLANE_ROLE},
    "workspace": {"control-plane": CONTROL_PLANE_ROLE},
}
# A workspace with a user-assigned identity and a managed network needs this role so the managed
# network's private endpoints get approved (how-to-managed-network.md, note under
# "Prerequisites"). Granted on the resource group, as Microsoft's managed-network samples do:
# the endpoints target storage, Key Vault, registry and the workspace itself, which does not
# exist yet when the network is provisioned at creation. The role only approves private
# endpoint connections (built-in-roles/ai-machine-learning.md).
NETWORK_APPROVER_ROLE = "Azure AI Enterprise Network Connection Approver"
# Studio data preview and notebooks with public access off: "Reader" on the storage private
# endpoints in the client VNet (how-to-managed-network.md, "Azure Machine Learning studio").
PRIVATE_ENDPOINT_READER_ROLE = "Reader"
# Azure Storage emits the metric categories "Capacity" and "Transaction" (account and each
# service); "AllMetrics" is stored as those and shows a diff on every plan
# (https://learn.microsoft.com/azure/storage/blobs/monitor-blob-storage-reference, "Metrics").
STORAGE_METRIC_CATEGORIES = ("Capacity", "Transaction")


class Placement(TypedDict):
    """Where every service of the stack goes, passed to each construct."""

    location: str
    resource_group_name: str
    tags: Mapping[str, str]


class MlPlatformStack(PlatformStack):
    def __init__(self, scope: Construct, stack_id: str, *, config: EnvironmentConfig, network: NetworkStack) -> None:
        super().__init__(scope, stack_id, config=config)
        self.network = network
        self.client = DataAzurermClientConfig(self, "client_config")
        self.common = Placement(
            location=config.environment.location, resource_group_name=network.resource_group.name, tags=self.tags
        )
        self.azapi = self.azapi_provider()
        self.time_provider()
        self.identity = WorkloadIdentity(self, "identity", name=config.names.identity, **self.common).identity
        self.monitoring = self._monitoring()
        self.key_vault = self._key_vault()
        self.storage_key = self._storage_key() if config.encryption.storage_customer_managed_key else None
        self.storage = self._storage()
        self.registry = self._registry()
        self.workspace = self._workspace()
        raw_container_id = self.storage.containers[config.storage.raw_container].id
        grant_data_bootstrap(
            self,
            config=config,
            workspace_id=self.workspace.id,
            key_vault_id=self.key_vault.vault.id,
            raw_container_id=raw_container_id,
            storage_account_id=self.storage.account.id,
            subscription_id=self.client.subscription_id,
        )
        grant_snowflake_integration(self.storage, config=config, raw_container_id=raw_container_id)
        self._image_build_cluster()
        self._outputs()

    # --- shared helpers ---------------------------------------------------------------------

    def _grants(self, service: str) -> dict[str, RoleAssignmentSpec]:
        return {
            f"workspace-identity-{purpose}": RoleAssignmentSpec(
                principal_id=self.identity.principal_id,
                role_definition_name=role,
                description=f"AML workspace identity: {role} ({purpose}), required for the linked {service}.",
            )
            for purpose, role in IDENTITY_ROLES[service].items()
        }

    def _endpoint(self, subresource: str, *zone_keys: str) -> dict[str, PrivateEndpointSpec]:
        return {
            subresource: PrivateEndpointSpec(
                subnet_id=self.network.private_endpoint_subnet_id,
                subresource_name=subresource,
                private_dns_zone_ids=tuple(self.network.dns.zone_ids[key] for key in zone_keys),
            )
        }

    def _diagnostics(
        self, *, logs: bool = True, metrics: tuple[str, ...] = ("AllMetrics",)
    ) -> dict[str, DiagnosticSettingsSpec]:
        return {
            "log-analytics": DiagnosticSettingsSpec(
                workspace_resource_id=self.monitoring.log_analytics.id,
                log_category_groups=("allLogs",) if logs else (),
                metric_categories=metrics,
            )
        }

    def _wait(self, construct_id: str, grants: list[RoleAssignment]) -> Sleep:
        return propagation_wait(
            self, construct_id, grants=grants, seconds=self.config.workspace.rbac_propagation_seconds
        )

    # --- services ---------------------------------------------------------------------------

    def _monitoring(self) -> Monitoring:
        config = self.config
        return Monitoring(
            self,
            "monitoring",
            props=MonitoringProps(
                log_analytics_name=config.names.log_analytics,
                application_insights_name=config.names.application_insights,
                private_link_scope_name=f"ampls-{config.environment.project}-ml-{config.name}",
                retention_days=config.monitoring.log_retention_days,
                private_endpoints=self._endpoint(
                    "azuremonitor", "monitor", "monitor_oms", "monitor_ods", "monitor_agentsvc", "blob"
                ),
                **self.common,
            ),
        )

    def _key_vault(
        self, construct_id: str = "key_vault", *, name: str = "", role_assignments: bool = True
    ) -> PlatformKeyVault:
        names = self.config.names
        return PlatformKeyVault(
            self,
            construct_id,
            props=KeyVaultProps(
                name=names.globally_unique(name or names.key_vault),
                tenant_id=self.client.tenant_id,
                sku_name=self.config.key_vault.sku,
                soft_delete_retention_days=self.config.key_vault.soft_delete_days,
                private_endpoints=self._endpoint("vault", "vault"),
                role_assignments=self._grants("key_vault") if role_assignments else {},
                diagnostic_settings=self._diagnostics(),
                **self.common,
            ),
        )

    def _storage_key(self) -> CustomerManagedKey:
        """The storage CMK, in its own vault: no workload identity holds any role on that vault,
        so none can disable the key, change the vault's network rules or delete it (GR008)."""
        names = self.config.names
        cmk_vault = self._key_vault("cmk_key_vault", name=names.cmk_key_vault, role_assignments=False)
        return CustomerManagedKey(
            self,
            "storage_encryption",
            key_name=f"cmk-{names.globally_unique(names.storage_account)}",
            key_vault_id=cmk_vault.vault.id,
            identity_name=f"{names.identity}-storage-cmk",
            azapi_provider=self.azapi,
            **self.common,
        )

    def _storage(self) -> PlatformStorage:
        config, key = self.config, self.storage_key
        storage = PlatformStorage(
            self,
            "storage",
            props=StorageProps(
                name=config.names.globally_unique(config.names.storage_account),
                replication_type=config.storage.replication_type,
                blob_soft_delete_days=config.storage.blob_soft_delete_days,
                container_soft_delete_days=config.storage.container_soft_delete_days,
                containers=(config.storage.raw_container, config.storage.curated_container),
                private_endpoints={**self._endpoint("blob", "blob"), **self._endpoint("file", "file")},
                role_assignments=self._grants("storage"),
                diagnostic_settings=self._diagnostics(logs=False, metrics=STORAGE_METRIC_CATEGORIES),
                service_diagnostic_settings=self._diagnostics(metrics=STORAGE_METRIC_CATEGORIES),
                managed_identities=ManagedIdentitiesSpec(user_assigned_resource_ids=(key.identity.id,) if key else ()),
                customer_managed_key=CustomerManagedKeySpec(
                    key_uri=key.versionless_key_uri,
                    user_assigned_identity_id=key.identity.id,
                    depends_on=(self._wait("storage_cmk_grant_propagation", [key.grant]),),
                )
                if key
                else None,
                **self.common,
            ),
        )
        for key_name, endpoint in storage.private_endpoints.items():
            declare_role_assignments(
                storage,
                resource_id=endpoint.id,
                assignments={
                    f"workspace-identity-reader-endpoint-{key_name}": RoleAssignmentSpec(
                        principal_id=self.identity.principal_id,
                        role_definition_name=PRIVATE_ENDPOINT_READER_ROLE,
                        description=f"AML workspace identity: Reader on the {key_name} private endpoint (studio).",
                    )
                },
            )
        return storage

    def _registry(self) -> PlatformRegistry:
        config = self.config
        return PlatformRegistry(
            self,
            "registry",
            props=RegistryProps(
                name=config.names.globally_unique(config.names.container_registry),
                zone_redundancy_enabled=config.registry.zone_redundancy,
                untagged_retention_days=config.registry.untagged_retention_days,
                geo_replication_locations=config.registry.geo_replication_locations,
                private_endpoints=self._endpoint("registry", "registry"),
                role_assignments=self._grants("registry"),
                diagnostic_settings=self._diagnostics(),
                **self.common,
            ),
        )

    def _workspace(self) -> PlatformWorkspace:
        config, monitoring = self.config, self.monitoring
        app_insights_grants = declare_role_assignments(
            monitoring, resource_id=monitoring.application_insights.id, assignments=self._grants("application_insights")
        )
        network_approver = declare_role_assignments(
            self,
            resource_id=self.network.resource_group.id,
            assignments={
                "workspace-identity-network-approver": RoleAssignmentSpec(
                    principal_id=self.identity.principal_id,
                    role_definition_name=NETWORK_APPROVER_ROLE,
                    description="AML workspace identity: approves the managed network's private endpoints.",
                )
            },
        )
        grants = [
            *self.storage.role_assignments,
            *self.key_vault.role_assignments,
            *self.registry.role_assignments,
            *app_insights_grants,
            *network_approver,
        ]
        return PlatformWorkspace(
            self,
            "workspace",
            props=WorkspaceProps(
                name=config.names.workspace,
                resource_group_id=self.network.resource_group.id,
                application_insights_id=monitoring.application_insights.id,
                key_vault_id=self.key_vault.vault.id,
                storage_account_id=self.storage.account.id,
                container_registry_id=self.registry.registry.id,
                managed_identities=ManagedIdentitiesSpec(user_assigned_resource_ids=(self.identity.id,)),
                managed_network_isolation_mode=config.workspace.managed_network,
                high_business_impact=config.workspace.high_business_impact,
                image_build_compute_name=config.compute.image_build_cluster,
                outbound_fqdn_rules=config.workspace.outbound_fqdn_rules,
                firewall_sku=config.workspace.firewall_sku,
                private_endpoints=self._endpoint("amlworkspace", "amlworkspace_api", "amlworkspace_notebooks"),
                role_assignments=self._grants("workspace"),
                diagnostic_settings=self._diagnostics(),
                **self.common,
            ),
            azapi_provider=self.azapi,
            depends_on=[self._wait("workspace_grants_propagation", grants)],
        )

    def _image_build_cluster(self) -> ImageBuildCluster:
        compute = self.config.compute
        return ImageBuildCluster(
            self,
            "image_build_compute",
            props=ComputeClusterProps(
                name=compute.image_build_cluster,
                workspace_id=self.workspace.id,
                location=self.config.environment.location,
                vm_size=compute.vm_size,
                max_nodes=compute.max_nodes,
                idle_minutes_before_scale_down=compute.idle_minutes_before_scale_down,
                user_assigned_identity_id=self.identity.id,
                tags=self.tags,
            ),
            azapi_provider=self.azapi,
            # The workspace identity's role on the workspace itself must be effective before the
            # cluster (which runs as that identity) is created.
            depends_on=[self._wait("workspace_self_grant_propagation", self.workspace.role_assignments)],
        )

    def _outputs(self) -> None:
        config, storage = self.config, self.storage
        outputs = {
            "subscription_id": self.client.subscription_id,
            "tenant_id": self.client.tenant_id,
            "location": config.environment.location,
            "resource_group_name": self.network.resource_group.name,
            "workspace_name": self.workspace.name,
            "workspace_id": self.workspace.id,
            "storage_account_name": storage.account.name,
            "raw_container_name": storage.containers[config.storage.raw_container].name,
            "curated_container_name": storage.containers[config.storage.curated_container].name,
            "key_vault_name": self.key_vault.vault.name,
            "key_vault_uri": self.key_vault.vault.vault_uri,
            "container_registry_name": self.registry.registry.name,
            "identity_client_id": self.identity.client_id,
            "identity_principal_id": self.identity.principal_id,
        }
        for output_name, value in outputs.items():
            TerraformOutput(self, output_name, value=value, description=f"{output_name} (for data_bootstrap)")
