"""Deployment unit 1: resource group, VNet with subnets and NSGs, private DNS."""

from __future__ import annotations

from constructs import Construct

from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.constructs.network import PlatformNetwork, SubnetSpec
from stacks.constructs.private_dns import PRIVATE_DNS_ZONES, STATE_ZONE_KEYS, PrivateDnsZones
from stacks.constructs.runner_reach import RunnerReach
from stacks.framework import DataAzurermResourceGroup


class NetworkStack(PlatformStack):
    def __init__(self, scope: Construct, stack_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, stack_id, config=config)
        names = config.names
        # Created by the access stack (the deployer's rights are scoped to it): looked up here.
        self.resource_group = DataAzurermResourceGroup(self, "resource_group", name=names.resource_group)
        self.network = PlatformNetwork(
            self,
            "network",
            name=names.virtual_network,
            location=config.environment.location,
            resource_group_name=self.resource_group.name,
            address_space=config.network.address_space,
            subnets={
                "private-endpoints": SubnetSpec(address_prefix=config.network.private_endpoint_subnet),
                "compute": SubnetSpec(address_prefix=config.network.compute_subnet),
            },
            tags=self.tags,
        )
        # With remote state the access stack owns the blob and vault zones (the state account's
        # endpoints need them first, stacks/constructs/private_dns.py); they are linked here.
        existing = STATE_ZONE_KEYS if config.backend.type == "azurerm" else ()
        self.dns = PrivateDnsZones(
            self,
            "private_dns",
            resource_group_name=self.resource_group.name,
            virtual_network_id=self.network.virtual_network.id,
            link_name=f"link-{names.virtual_network}",
            tags=self.tags,
            keys=[key for key in PRIVATE_DNS_ZONES if key not in existing],
            existing_keys=existing,
        )
        if config.runners.virtual_network_id:
            # Links the zones created here; the access stack links its own to the runner VNet.
            RunnerReach(
                self,
                "runner_reach",
                runner_virtual_network_id=config.runners.virtual_network_id,
                platform_virtual_network=self.network.virtual_network,
                resource_group_name=self.resource_group.name,
                zones=self.dns.zones,
                tags=self.tags,
            )

    @property
    def private_endpoint_subnet_id(self) -> str:
        return self.network.subnets["private-endpoints"].id
