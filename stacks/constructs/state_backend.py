"""The azurerm backend's storage: Terraform state and the Argo artifact repository.

Declared by the access stack (applied first, by an administrator) for remote-state environments.
The account is the platform storage construct with the same settings as the platform's own
account (shared key off, Entra ID only, no public blobs, TLS 1.2, versioning, blob and container
soft delete, network default deny, public network access off, a customer-managed key in a vault
no workload identity has any role on), reached through one private endpoint in a subnet of the
runner VNet (``[runners].private_endpoint_subnet_id``): only the in-cluster runners read or write
state (docs/access.md, "Remote state").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

from constructs import Construct

from stacks.constructs.encryption_key import CustomerManagedKey
from stacks.constructs.key_vault import KeyVaultProps, PlatformKeyVault
from stacks.constructs.rbac_wait import propagation_wait
from stacks.constructs.storage import CustomerManagedKeySpec, PlatformStorage, StorageProps
from stacks.framework import ResourceGroup, StorageContainer, TerraformProvider
from stacks.interfaces import ManagedIdentitiesSpec, PrivateEndpointSpec


class Placement(TypedDict):
    """Where every part of the backend goes."""

    location: str
    resource_group_name: str
    tags: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class StateBackendProps:
    """Where and how the state account is built (all from ``[backend]``, ``[runners]``, ``[storage]``)."""

    location: str
    resource_group_name: str
    storage_account_name: str
    container_name: str
    key_vault_name: str
    key_vault_sku: str
    key_vault_soft_delete_days: int
    cmk_identity_name: str
    tenant_id: str
    replication_type: str
    blob_soft_delete_days: int
    container_soft_delete_days: int
    private_endpoint_subnet_id: str
    # Zone IDs the endpoints register in, keyed "blob" and "vault" (linked to the runner VNet).
    private_dns_zone_ids: Mapping[str, str]
    rbac_propagation_seconds: int
    tags: Mapping[str, str]


class StateBackend(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, props: StateBackendProps, azapi_provider: TerraformProvider
    ) -> None:
        super().__init__(scope, construct_id)
        self.resource_group = ResourceGroup(
            self, "resource_group", name=props.resource_group_name, location=props.location, tags=dict(props.tags)
        )
        placement = Placement(location=props.location, resource_group_name=self.resource_group.name, tags=props.tags)

        def endpoint(subresource: str) -> dict[str, PrivateEndpointSpec]:
            return {
                subresource: PrivateEndpointSpec(
                    subnet_id=props.private_endpoint_subnet_id,
                    subresource_name=subresource,
                    private_dns_zone_ids=(props.private_dns_zone_ids[subresource],),
                )
            }

        # The key's own vault: no role on it for anyone but the key's grant (GR008), as for the
        # platform's CMK vault.
        self.key_vault = PlatformKeyVault(
            self,
            "key_vault",
            props=KeyVaultProps(
                name=props.key_vault_name,
                tenant_id=props.tenant_id,
                sku_name=props.key_vault_sku,
                soft_delete_retention_days=props.key_vault_soft_delete_days,
                private_endpoints=endpoint("vault"),
                **placement,
            ),
        )
        self.encryption = CustomerManagedKey(
            self,
            "encryption",
            key_name=f"cmk-{props.storage_account_name}",
            key_vault_id=self.key_vault.vault.id,
            identity_name=props.cmk_identity_name,
            azapi_provider=azapi_provider,
            **placement,
        )
        key = self.encryption
        self.storage = PlatformStorage(
            self,
            "storage",
            props=StorageProps(
                name=props.storage_account_name,
                replication_type=props.replication_type,
                blob_soft_delete_days=props.blob_soft_delete_days,
                container_soft_delete_days=props.container_soft_delete_days,
                containers=(props.container_name,),
                private_endpoints=endpoint("blob"),
                managed_identities=ManagedIdentitiesSpec(user_assigned_resource_ids=(key.identity.id,)),
                customer_managed_key=CustomerManagedKeySpec(
                    key_uri=key.versionless_key_uri,
                    user_assigned_identity_id=key.identity.id,
                    depends_on=(
                        propagation_wait(
                            self, "cmk_grant_propagation", grants=[key.grant], seconds=props.rbac_propagation_seconds
                        ),
                    ),
                ),
                **placement,
            ),
        )
        # Losing this account loses every stack's state: a plan that would destroy or replace it
        # (a ForceNew change, a removed environment) fails instead of running.
        self.storage.account.add_override("lifecycle", {"prevent_destroy": True})
        self.state_container: StorageContainer = self.storage.containers[props.container_name]
