"""Network reach for the runners: the runner (AKS) VNet peered both ways with the platform VNet,
and every private DNS zone the network stack creates linked to it, so pods resolve the private
endpoints (the blob and vault zones of a remote-state environment are the access stack's, which
links them to the runner VNet itself: stacks/constructs/private_dns.py, ``STATE_ZONE_KEYS``).

Declared in the network stack, where the platform VNet and zones are; the runner-side peering
and the DNS links act on the runner VNet, which the access stack lets the deployer do
(``RUNNER_NETWORK_ACTIONS``). Peering: https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering
(both directions must exist before traffic flows; VNets may be in different subscriptions).
"""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from stacks.base import provider_features
from stacks.framework import (
    AzurermProvider,
    PrivateDnsZone,
    PrivateDnsZoneVirtualNetworkLink,
    VirtualNetwork,
    VirtualNetworkPeering,
)


def split_virtual_network_id(resource_id: str) -> tuple[str, str, str]:
    """(subscription, resource group, name) of a VNet resource ID (validated by the config)."""
    parts = resource_id.split("/")
    return parts[2], parts[4], parts[8]


class RunnerReach(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runner_virtual_network_id: str,
        platform_virtual_network: VirtualNetwork,
        resource_group_name: str,
        zones: Mapping[str, PrivateDnsZone],
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        subscription, runner_group, runner_name = split_virtual_network_id(runner_virtual_network_id)
        # The runner VNet may live in another subscription: its side of the peering is created
        # through a provider for that subscription (the zones' links are children of the zones).
        runner_provider = AzurermProvider(
            self,
            "runner_subscription",
            alias="runner_subscription",
            subscription_id=subscription,
            features=provider_features(),
            resource_provider_registrations="none",
            storage_use_azuread=True,
        )
        # No forwarded traffic, no gateway transit: the runners reach the platform's private
        # endpoints directly, nothing else routes through either VNet.
        # (construct id, provider, peering name, group and VNet holding it, the VNet it points at)
        sides = (
            (
                "peering_to_runners",
                None,
                f"peer-to-{runner_name}",
                resource_group_name,
                platform_virtual_network.name,
                runner_virtual_network_id,
            ),
            (
                "peering_from_runners",
                runner_provider,
                f"peer-to-{platform_virtual_network.name}",
                runner_group,
                runner_name,
                platform_virtual_network.id,
            ),
        )
        self.peerings = [
            VirtualNetworkPeering(
                self,
                peering_id,
                provider=provider,
                name=name,
                resource_group_name=group,
                virtual_network_name=vnet_name,
                remote_virtual_network_id=remote_id,
                allow_virtual_network_access=True,
                allow_forwarded_traffic=False,
                allow_gateway_transit=False,
                use_remote_gateways=False,
            )
            for peering_id, provider, name, group, vnet_name, remote_id in sides
        ]
        self.dns_links = [
            PrivateDnsZoneVirtualNetworkLink(
                self,
                f"runner_link_{key}",
                name=f"link-{runner_name}",
                resource_group_name=resource_group_name,
                private_dns_zone_name=zone.name,
                virtual_network_id=runner_virtual_network_id,
                registration_enabled=False,
                tags=dict(tags),
            )
            for key, zone in sorted(zones.items())
        ]
