"""Private DNS zones for every private endpoint, linked to the platform VNet."""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from stacks.framework import PrivateDnsZone, PrivateDnsZoneVirtualNetworkLink

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


class PrivateDnsZones(Construct):
    """Zones keyed by a stable name, each linked to the VNet (no auto-registration)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resource_group_name: str,
        virtual_network_id: str,
        link_name: str,
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.zone_ids: dict[str, str] = {}
        self.zones: dict[str, PrivateDnsZone] = {}
        for key, zone_name in PRIVATE_DNS_ZONES.items():
            zone = PrivateDnsZone(
                self, f"zone_{key}", name=zone_name, resource_group_name=resource_group_name, tags=dict(tags)
            )
            PrivateDnsZoneVirtualNetworkLink(
                self,
                f"link_{key}",
                name=link_name,
                resource_group_name=resource_group_name,
                private_dns_zone_name=zone.name,
                virtual_network_id=virtual_network_id,
                registration_enabled=False,
                tags=dict(tags),
            )
            self.zone_ids[key] = zone.id
            self.zones[key] = zone
