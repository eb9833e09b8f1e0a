"""Private DNS zones for every private endpoint, linked to a VNet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from constructs import Construct

from stacks.framework import DataAzurermPrivateDnsZone, PrivateDnsZone, PrivateDnsZoneVirtualNetworkLink

# Stable key -> zone name (public cloud). The keys are part of logical IDs.
PRIVATE_DNS_ZONES: Mapping[str, str] = {
    "amlworkspace_api": "privatelink.api.azureml.ms",
    "amlworkspace_notebooks": "privatelink.notebooks.azure.net",
    "blob": "privatelink.blob.core.windows.net",
    "file": "privatelink.file.core.windows.net",
    "vault": "privatelink.vaultcore.azure.net",
    "registry": "privatelink.azurecr.io",
    # Azure Monitor Private Link Scope ("azuremonitor" endpoint); it also registers in the blob
    # zone above. https://learn.microsoft.com/azure/azure-monitor/logs/private-link-configure
    "monitor": "privatelink.monitor.azure.com",
    "monitor_oms": "privatelink.oms.opinsights.azure.com",
    "monitor_ods": "privatelink.ods.opinsights.azure.com",
    "monitor_agentsvc": "privatelink.agentsvc.azure-automation.net",
}
# Zones the access stack owns where the Terraform state is remote: the state account's endpoint
# (blob) and its key vault's (vault) sit in the runner VNet and must resolve there before the
# network stack exists. Azure links a VNet to at most one zone of a name ("A virtual network
# cannot be linked to multiple zones with overlapping namespaces": Private Link FAQ,
# https://learn.microsoft.com/azure/private-link/private-link-faq), so there is one zone per name
# and environment: access creates these two in the platform resource group and links them to the
# runner VNet; the network stack links the same zones to the platform VNet, and every blob and
# vault endpoint of the platform registers in them through its DNS zone group.
STATE_ZONE_KEYS = ("blob", "vault")


class PrivateDnsZones(Construct):
    """Zones keyed by a stable name, each linked to the VNet (no auto-registration).

    ``keys`` are the zones this construct creates; ``existing_keys`` are zones another stack
    created in the same resource group, looked up by name and only linked here.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource_group_name: str,
        virtual_network_id: str,
        link_name: str,
        tags: Mapping[str, str],
        keys: Sequence[str] = tuple(PRIVATE_DNS_ZONES),
        existing_keys: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.zone_ids: dict[str, str] = {}
        self.zones: dict[str, PrivateDnsZone] = {}
        for key in (*keys, *existing_keys):
            zone_name = PRIVATE_DNS_ZONES[key]
            if key in existing_keys:
                found = DataAzurermPrivateDnsZone(
                    self, f"existing_zone_{key}", name=zone_name, resource_group_name=resource_group_name
                )
                zone_id, linked_name = found.id, found.name
            else:
                zone = PrivateDnsZone(
                    self, f"zone_{key}", name=zone_name, resource_group_name=resource_group_name, tags=dict(tags)
                )
                self.zones[key] = zone
                zone_id, linked_name = zone.id, zone.name
            PrivateDnsZoneVirtualNetworkLink(
                self,
                f"link_{key}",
                name=link_name,
                resource_group_name=resource_group_name,
                private_dns_zone_name=linked_name,
                virtual_network_id=virtual_network_id,
                registration_enabled=False,
                tags=dict(tags),
            )
            self.zone_ids[key] = zone_id
