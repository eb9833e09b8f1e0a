"""Deployment unit 2: identity, monitoring, storage, Key Vault, registry, AML workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from cdktf import TerraformOutput
from cdktf_cdktf_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from constructs import Construct

from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.constructs.avm_interfaces import declare_role_assignments
from stacks.constructs.data_bootstrap_access import grant_data_bootstrap
from stacks.constructs.encryption_key import CustomerManagedKey
from stacks.constructs.identity import WorkloadIdentity
from stacks.constructs.key_vault import KeyVaultProps, PlatformKeyVault
from stacks.constructs.monitoring import Monitoring
from stacks.constructs.registry import PlatformRegistry, RegistryProps
from stacks.constructs.storage import CustomerManagedKeySpec, PlatformStorage, StorageProps
from stacks.constructs.workspace import PlatformWorkspace, WorkspaceProps
from stacks.interfaces import (
    DiagnosticSettingsSpec,
    ManagedIdentitiesSpec,
    PrivateEndpointSpec,
    RoleAssignmentSpec,
)
from stacks.network_stack import NetworkStack

# Roles the workspace's user-assigned identity needs on each linked resource,
# from "Set up authentication between Azure Machine Learning and other services",
# section "User-assigned managed identity > Workspace":
# https://learn.microsoft.com/azure/machine-learning/how-to-identity-based-service-authentication
# The page asks for "Contributor" on the control plane of storage, Key Vault,
# registry and Application Insights. Contributor is forbidden here, so the
# control-plane grant is "Azure AI Administrator", Microsoft's narrower
# built-in role for workspace identities, scoped to each resource only.
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
}


class Placement(TypedDict):
    """Where every service of the stack goes, passed to each construct."""

    location: str
    resource_group_name: str
    tags: Mapping[str, str]


class MlPlatformStack(PlatformStack):
    def __init__(self, scope: Construct, stack_id: str, *, config: EnvironmentConfig, network: NetworkStack) -> None:
        super().__init__(scope, stack_id, config=config)
        names, location = config.names, config.environment.location
        resource_group_name = network.resource_group.name
        client = DataAzurermClientConfig(self, "client_config")
        common = Placement(location=location, resource_group_name=resource_group_name, tags=self.tags)

        identity = WorkloadIdentity(self, "identity", name=names.identity, **common).identity
        monitoring = Monitoring(
            self,
            "monitoring",
            log_analytics_name=names.log_analytics,
            application_insights_name=names.application_insights,
            retention_days=config.monitoring.log_retention_days,
            **common,
        )

        def grants(service: str) -> dict[str, RoleAssignmentSpec]:
            return {
                f"workspace-identity-{purpose}": RoleAssignmentSpec(
                    principal_id=identity.principal_id,
                    role_definition_name=role,
                    description=f"AML workspace identity: {role} ({purpose}), required for the linked {service}.",
                )
                for purpose, role in IDENTITY_ROLES[service].items()
            }

        def endpoint(subresource: str, *zone_keys: str) -> dict[str, PrivateEndpointSpec]:
            return {
                subresource: PrivateEndpointSpec(
                    subnet_id=network.private_endpoint_subnet_id,
                    subresource_name=subresource,
                    private_dns_zone_ids=tuple(network.dns.zone_ids[key] for key in zone_keys),
                )
            }

        logs_and_metrics = {"log-analytics": DiagnosticSettingsSpec(workspace_resource_id=monitoring.log_analytics.id)}
        metrics_only = {
            "log-analytics": DiagnosticSettingsSpec(
                workspace_resource_id=monitoring.log_analytics.id, log_category_groups=()
            )
        }

        key_vault = PlatformKeyVault(
            self,
            "key_vault",
            props=KeyVaultProps(
                name=names.key_vault,
                tenant_id=client.tenant_id,
                sku_name=config.key_vault.sku,
                soft_delete_retention_days=config.key_vault.soft_delete_days,
                private_endpoints=endpoint("vault", "vault"),
                role_assignments=grants("key_vault"),
                diagnostic_settings=logs_and_metrics,
                **common,
            ),
        )
        azapi = self.azapi_provider()
        storage_key = (
            CustomerManagedKey(
                self,
                "storage_encryption",
                key_name=f"cmk-{names.storage_account}",
                key_vault_id=key_vault.vault.id,
                identity_name=f"{names.identity}-storage-cmk",
                azapi_provider=azapi,
                **common,
            )
            if config.encryption.storage_customer_managed_key
            else None
        )
        storage = PlatformStorage(
            self,
            "storage",
            props=StorageProps(
                name=names.storage_account,
                replication_type=config.storage.replication_type,
                blob_soft_delete_days=config.storage.blob_soft_delete_days,
                container_soft_delete_days=config.storage.container_soft_delete_days,
                containers=(config.storage.raw_container, config.storage.curated_container),
                private_endpoints={**endpoint("blob", "blob"), **endpoint("file", "file")},
                role_assignments=grants("storage"),
                diagnostic_settings=metrics_only,
                service_diagnostic_settings=logs_and_metrics,
                managed_identities=ManagedIdentitiesSpec(
                    user_assigned_resource_ids=(storage_key.identity.id,) if storage_key else ()
                ),
                customer_managed_key=CustomerManagedKeySpec(
                    key_uri=storage_key.versionless_key_uri,
                    user_assigned_identity_id=storage_key.identity.id,
                    depends_on=(storage_key.grant,),
                )
                if storage_key
                else None,
                **common,
            ),
        )
        registry = PlatformRegistry(
            self,
            "registry",
            props=RegistryProps(
                name=names.container_registry,
                zone_redundancy_enabled=config.registry.zone_redundancy,
                untagged_retention_days=config.registry.untagged_retention_days,
                geo_replication_locations=config.registry.geo_replication_locations,
                private_endpoints=endpoint("registry", "registry"),
                role_assignments=grants("registry"),
                diagnostic_settings=logs_and_metrics,
                **common,
            ),
        )
        app_insights_grants = declare_role_assignments(
            monitoring,
            resource_id=monitoring.application_insights.id,
            assignments=grants("application_insights"),
        )
        workspace = PlatformWorkspace(
            self,
            "workspace",
            props=WorkspaceProps(
                name=names.workspace,
                application_insights_id=monitoring.application_insights.id,
                key_vault_id=key_vault.vault.id,
                storage_account_id=storage.account.id,
                container_registry_id=registry.registry.id,
                managed_identities=ManagedIdentitiesSpec(user_assigned_resource_ids=(identity.id,)),
                managed_network_isolation_mode=config.workspace.managed_network,
                high_business_impact=config.workspace.high_business_impact,
                private_endpoints=endpoint("amlworkspace", "amlworkspace_api", "amlworkspace_notebooks"),
                diagnostic_settings=logs_and_metrics,
                **common,
            ),
            azapi_provider=azapi,
            depends_on=[
                *storage.role_assignments,
                *key_vault.role_assignments,
                *registry.role_assignments,
                *app_insights_grants,
            ],
        )
        grant_data_bootstrap(
            self,
            config=config,
            workspace_id=workspace.workspace.id,
            key_vault_id=key_vault.vault.id,
            raw_container_id=storage.containers[config.storage.raw_container].id,
        )

        outputs = {
            "subscription_id": client.subscription_id,
            "tenant_id": client.tenant_id,
            "location": location,
            "resource_group_name": resource_group_name,
            "workspace_name": workspace.workspace.name,
            "workspace_id": workspace.workspace.id,
            "storage_account_name": storage.account.name,
            "raw_container_name": storage.containers[config.storage.raw_container].name,
            "curated_container_name": storage.containers[config.storage.curated_container].name,
            "key_vault_name": key_vault.vault.name,
            "key_vault_uri": key_vault.vault.vault_uri,
            "container_registry_name": registry.registry.name,
            "identity_client_id": identity.client_id,
            "identity_principal_id": identity.principal_id,
        }
        for output_name, value in outputs.items():
            TerraformOutput(self, output_name, value=value, description=f"{output_name} (for data_bootstrap)")
