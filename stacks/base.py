"""What every platform stack shares: providers, state backend, tags."""

from __future__ import annotations

from constructs import Construct

from stacks.config import EnvironmentConfig
from stacks.framework import (
    Aspects,
    AzurermBackend,
    AzurermProvider,
    AzurermProviderFeatures,
    AzurermProviderFeaturesKeyVault,
    AzurermProviderFeaturesResourceGroup,
    AzurermProviderFeaturesStorage,
    LocalBackend,
    TerraformProvider,
    TerraformProviderGeneratorMetadata,
    TerraformStack,
    TimeProvider,
)
from stacks.policy import PolicyAspect

# Exact provider versions (a float like "~> 2.0" picks up schema changes unreviewed).
# azapi 2.12.0 embeds the ARM type definitions in ../shared/azure-types, which the
# preflight (policy/azapi_preflight.py) validates every azapi body against.
AZAPI_VERSION = "2.12.0"


def provider_features() -> list[AzurermProviderFeatures]:
    """The azurerm features every provider block of ours carries (aliases too)."""
    return [
        AzurermProviderFeatures(
            key_vault=[
                AzurermProviderFeaturesKeyVault(
                    purge_soft_delete_on_destroy=False, recover_soft_deleted_key_vaults=True
                )
            ],
            resource_group=[AzurermProviderFeaturesResourceGroup(prevent_deletion_if_contains_resources=True)],
            # azurerm 4.x polls the storage data plane (blob, queue, file, static website)
            # after create and on every refresh; with public access off that is HTTP 403 and
            # the create fails. Off, the provider only uses the resource manager for storage
            # (and refuses queue_properties/static_website, which we do not set).
            # Source: terraform-provider-azurerm v4.55.0,
            # internal/services/storage/storage_account_resource.go (data-plane availability poll),
            # website/docs/guides/features-block.html.markdown (storage.data_plane_available).
            storage=[AzurermProviderFeaturesStorage(data_plane_available=False)],
        )
    ]


class PlatformStack(TerraformStack):
    """A deployment unit of one environment, with its backend, provider and tags."""

    # Resource providers this stack's apply registers in the subscription. Only the access stack
    # (applied by an Owner) registers any: the deployer identity has no subscription-scope rights,
    # so the provider must not try (resource_provider_registrations = "none"; the two settings
    # combine: azurerm v4.55.0 website/docs/index.html.markdown, "Resource Provider Registrations").
    resource_providers_to_register: tuple[str, ...] = ()

    def __init__(self, scope: Construct, stack_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, stack_id)
        self.config = config
        self.tags = config.common_tags()
        self._declare_backend(stack_id)
        AzurermProvider(
            self,
            "azurerm",
            features=provider_features(),
            # Shared-key auth is off on our storage: data-plane calls use Entra ID.
            storage_use_azuread=True,
            resource_provider_registrations="none",
            resource_providers_to_register=list(self.resource_providers_to_register) or None,
        )
        # Tags are owned by the constructs (each takes the AVM-style ``tags`` argument, given
        # ``self.tags``); there is no tagging Aspect that could paper over a construct that forgets
        # them. GR004 fails synth on any taggable resource without the required tags.
        Aspects.of(self).add(PolicyAspect())

    def _declare_backend(self, stack_id: str) -> None:
        backend = self.config.backend
        if backend.type == "azurerm":
            AzurermBackend(
                self,
                resource_group_name=backend.resource_group_name,
                storage_account_name=backend.storage_account_name,
                container_name=backend.container_name,
                key=f"{stack_id}.tfstate",
                use_azuread_auth=True,
            )
        else:
            self._declare_local_backend(stack_id)

    def _declare_local_backend(self, stack_id: str) -> None:
        # Relative to cdktf.out/stacks/<stack>: state lives in terraform-state/
        # at the repo root, outside the regenerated output, and the path is
        # the same on every machine (snapshots stay stable).
        LocalBackend(self, path=f"../../../terraform-state/{stack_id}.tfstate")

    def azapi_provider(self) -> TerraformProvider:
        """azapi, declared generically: there is no prebuilt binding for it."""
        return TerraformProvider(
            self,
            "azapi",
            terraform_resource_type="azapi",
            terraform_provider_source="azure/azapi",
            terraform_generator_metadata=TerraformProviderGeneratorMetadata(
                provider_name="azapi", provider_version_constraint=AZAPI_VERSION
            ),
        )

    def time_provider(self) -> TimeProvider:
        """hashicorp/time, for the waits after role assignments (prebuilt binding, version pinned by it)."""
        return TimeProvider(self, "time")
