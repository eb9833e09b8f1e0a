"""Key Vault: RBAC authorization, purge protection, private only."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from stacks.constructs.avm_interfaces import declare_interfaces
from stacks.framework import KeyVault, KeyVaultNetworkAcls
from stacks.interfaces import CommonProps


@dataclass(frozen=True, kw_only=True)
class KeyVaultProps(CommonProps):
    name: str
    tenant_id: str
    sku_name: str
    soft_delete_retention_days: int


class PlatformKeyVault(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: KeyVaultProps) -> None:
        super().__init__(scope, construct_id)
        self.vault = KeyVault(
            self,
            "vault",
            name=props.name,
            location=props.location,
            resource_group_name=props.resource_group_name,
            tenant_id=props.tenant_id,
            sku_name=props.sku_name,
            rbac_authorization_enabled=True,
            purge_protection_enabled=True,
            soft_delete_retention_days=props.soft_delete_retention_days,
            public_network_access_enabled=False,
            enabled_for_deployment=False,
            enabled_for_disk_encryption=False,
            enabled_for_template_deployment=False,
            network_acls=KeyVaultNetworkAcls(default_action="Deny", bypass="AzureServices"),
            tags=dict(props.tags),
        )
        self.private_endpoints, self.role_assignments, _ = declare_interfaces(
            self, resource_id=self.vault.id, resource_name=props.name, props=props
        )
