"""Workspace storage: bronze (raw) and silver (curated) containers, locked down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from constructs import Construct

from stacks.constructs.avm_interfaces import declare_diagnostic_settings, declare_interfaces
from stacks.framework import (
    ITerraformDependable,
    StorageAccount,
    StorageAccountBlobProperties,
    StorageAccountBlobPropertiesContainerDeleteRetentionPolicy,
    StorageAccountBlobPropertiesDeleteRetentionPolicy,
    StorageAccountCustomerManagedKey,
    StorageAccountIdentity,
    StorageAccountNetworkRules,
    StorageAccountShareProperties,
    StorageAccountSharePropertiesRetentionPolicy,
    StorageContainer,
)
from stacks.interfaces import CommonProps, DiagnosticSettingsSpec, ManagedIdentitiesSpec

# Each service of the account emits its own resource logs.
STORAGE_SERVICES = ("blob", "file", "queue", "table")


@dataclass(frozen=True, kw_only=True)
class CustomerManagedKeySpec:
    """AVM ``customer_managed_key``: a versionless key URI and the identity that uses it."""

    key_uri: str
    user_assigned_identity_id: str
    depends_on: tuple[ITerraformDependable, ...] = ()


@dataclass(frozen=True, kw_only=True)
class StorageProps(CommonProps):
    name: str
    replication_type: str
    blob_soft_delete_days: int
    container_soft_delete_days: int
    containers: tuple[str, ...]
    # Logs of the blob, file, queue and table services (the account itself only emits metrics).
    service_diagnostic_settings: Mapping[str, DiagnosticSettingsSpec] | None = None
    managed_identities: ManagedIdentitiesSpec = field(default_factory=ManagedIdentitiesSpec)
    customer_managed_key: CustomerManagedKeySpec | None = None


class PlatformStorage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: StorageProps) -> None:
        super().__init__(scope, construct_id)
        self.account = StorageAccount(
            self,
            "account",
            name=props.name,
            location=props.location,
            resource_group_name=props.resource_group_name,
            account_kind="StorageV2",
            account_tier="Standard",
            account_replication_type=props.replication_type,
            min_tls_version="TLS1_2",
            https_traffic_only_enabled=True,
            public_network_access_enabled=False,
            shared_access_key_enabled=False,
            default_to_oauth_authentication=True,
            allow_nested_items_to_be_public=False,
            cross_tenant_replication_enabled=False,
            infrastructure_encryption_enabled=True,
            # Queues and tables under the account key (the CMK) too; the default "Service" keeps
            # them on Microsoft-managed keys, and the setting is ForceNew (azurerm storage_account
            # docs: queue_encryption_key_type / table_encryption_key_type).
            queue_encryption_key_type="Account",
            table_encryption_key_type="Account",
            local_user_enabled=False,
            sftp_enabled=False,
            network_rules=StorageAccountNetworkRules(default_action="Deny", bypass=["AzureServices"]),
            blob_properties=StorageAccountBlobProperties(
                versioning_enabled=True,
                change_feed_enabled=True,
                delete_retention_policy=StorageAccountBlobPropertiesDeleteRetentionPolicy(
                    days=props.blob_soft_delete_days
                ),
                container_delete_retention_policy=StorageAccountBlobPropertiesContainerDeleteRetentionPolicy(
                    days=props.container_soft_delete_days
                ),
            ),
            share_properties=StorageAccountShareProperties(
                retention_policy=StorageAccountSharePropertiesRetentionPolicy(days=props.blob_soft_delete_days)
            ),
            identity=StorageAccountIdentity(
                type="UserAssigned", identity_ids=list(props.managed_identities.user_assigned_resource_ids)
            )
            if props.managed_identities.user_assigned_resource_ids
            else None,
            customer_managed_key=StorageAccountCustomerManagedKey(
                key_vault_key_id=props.customer_managed_key.key_uri,
                user_assigned_identity_id=props.customer_managed_key.user_assigned_identity_id,
            )
            if props.customer_managed_key
            else None,
            depends_on=list(props.customer_managed_key.depends_on) if props.customer_managed_key else None,
            tags=dict(props.tags),
        )
        # Created through the resource manager (storage_account_id), not the data
        # plane: the account has no public endpoint and no shared keys.
        self.containers = {
            name: StorageContainer(
                self,
                f"container_{name}",
                name=name,
                storage_account_id=self.account.id,
                container_access_type="private",
            )
            for name in props.containers
        }
        self.private_endpoints, self.role_assignments, _ = declare_interfaces(
            self, resource_id=self.account.id, resource_name=props.name, props=props
        )
        for service in STORAGE_SERVICES:
            declare_diagnostic_settings(
                self,
                target_resource_id=f"{self.account.id}/{service}Services/default",
                resource_name=f"{props.name}-{service}",
                settings=props.service_diagnostic_settings or {},
                id_prefix=f"diagnostic_setting_{service}",
            )
