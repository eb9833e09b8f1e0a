"""A customer-managed key in Key Vault, created through Azure Resource Manager.

The vault has no public endpoint, so Terraform cannot reach its data plane
(azurerm_key_vault_key) from a workstation or CI runner. Keys, unlike secrets,
can be created through ARM (Microsoft.KeyVault/vaults/keys), which we do with
a generic azapi resource. The key rotates itself yearly and expires after two.
"""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from stacks.constructs.azapi import azapi_resource
from stacks.framework import RoleAssignment, TerraformProvider, Token, UserAssignedIdentity

KEY_API_TYPE = "Microsoft.KeyVault/vaults/keys@2023-07-01"


class CustomerManagedKey(Construct):
    """An RSA key, plus the identity a service uses to wrap and unwrap with it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key_name: str,
        key_vault_id: str,
        identity_name: str,
        location: str,
        resource_group_name: str,
        azapi_provider: TerraformProvider,
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = azapi_resource(
            self,
            "key",
            provider=azapi_provider,
            type_=KEY_API_TYPE,
            name=key_name,
            parent_id=key_vault_id,
            body={
                "properties": {
                    "kty": "RSA",
                    "keySize": 3072,
                    "keyOps": ["wrapKey", "unwrapKey"],
                    "rotationPolicy": {
                        "attributes": {"expiryTime": "P2Y"},
                        "lifetimeActions": [{"trigger": {"timeAfterCreate": "P1Y"}, "action": {"type": "rotate"}}],
                    },
                }
            },
            response_export_values=("properties.keyUri",),
            tags=tags,
        )
        # Keys have no delete in the resource manager: its keys API offers Keys_CreateIfNotExist
        # (PUT), Get and List only (azure-rest-api-specs specification/keyvault/resource-manager/
        # Microsoft.KeyVault/stable/2023-07-01/keys.json; ../shared/NOTES.md), so destroying or
        # renaming this resource fails half-way through an apply. prevent_destroy makes that fail
        # at plan time instead, before anything changes; README "Deploying from a workstation"
        # documents the `terraform state rm` for a teardown.
        self.key.add_override("lifecycle", {"prevent_destroy": True})
        self.identity = UserAssignedIdentity(
            self,
            "identity",
            name=identity_name,
            location=location,
            resource_group_name=resource_group_name,
            tags=dict(tags),
        )
        self.grant = RoleAssignment(
            self,
            "role_assignment_crypto_user",
            scope=Token.as_string(self.key.interpolation_for_attribute("id")),
            principal_id=self.identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_name="Key Vault Crypto Service Encryption User",
            description=f"Lets the storage account wrap and unwrap its data keys with {key_name}.",
        )

    @property
    def versionless_key_uri(self) -> str:
        """Versionless: the service follows automatic rotation."""
        return Token.as_string(self.key.interpolation_for_attribute("output.properties.keyUri"))
