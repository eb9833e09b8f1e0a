"""Virtual network with a private-endpoint subnet and a compute subnet, each with an NSG."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from constructs import Construct

from stacks.framework import (
    NetworkSecurityGroup,
    NetworkSecurityGroupSecurityRule,
    Subnet,
    SubnetNetworkSecurityGroupAssociation,
    VirtualNetwork,
)


@dataclass(frozen=True, kw_only=True)
class SubnetSpec:
    address_prefix: str
    # Private endpoints honour NSGs and route tables only with policies enabled.
    private_endpoint_network_policies: str = "Enabled"


def _deny_internet_inbound() -> NetworkSecurityGroupSecurityRule:
    # Azure's default rules already drop unsolicited internet traffic; an explicit
    # rule makes the intent reviewable and survives someone adding allow rules above 4000.
    return NetworkSecurityGroupSecurityRule(
        name="deny-internet-inbound",
        priority=4096,
        direction="Inbound",
        access="Deny",
        protocol="*",
        source_address_prefix="Internet",
        source_port_range="*",
        destination_address_prefix="*",
        destination_port_range="*",
        description="No inbound traffic from the internet; services are reached through private endpoints.",
    )


class PlatformNetwork(Construct):
    """VNet, subnets keyed by a stable name, and one NSG per subnet."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        location: str,
        resource_group_name: str,
        address_space: str,
        subnets: Mapping[str, SubnetSpec],
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.virtual_network = VirtualNetwork(
            self,
            "virtual_network",
            name=name,
            location=location,
            resource_group_name=resource_group_name,
            address_space=[address_space],
            tags=dict(tags),
        )
        self.subnets: dict[str, Subnet] = {}
        for key, spec in sorted(subnets.items()):
            subnet = Subnet(
                self,
                f"subnet_{key}",
                name=f"snet-{key}",
                resource_group_name=resource_group_name,
                virtual_network_name=self.virtual_network.name,
                address_prefixes=[spec.address_prefix],
                private_endpoint_network_policies=spec.private_endpoint_network_policies,
                # No implicit outbound internet: egress must be explicit (NAT, firewall, managed VNet).
                default_outbound_access_enabled=False,
            )
            nsg = NetworkSecurityGroup(
                self,
                f"nsg_{key}",
                name=f"nsg-{name}-{key}",
                location=location,
                resource_group_name=resource_group_name,
                security_rule=[_deny_internet_inbound()],
                tags=dict(tags),
            )
            SubnetNetworkSecurityGroupAssociation(
                self, f"nsg_association_{key}", subnet_id=subnet.id, network_security_group_id=nsg.id
            )
            self.subnets[key] = subnet
