"""Container registry: Premium (private link), no admin user, private only."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from stacks.constructs.avm_interfaces import declare_interfaces
from stacks.framework import ContainerRegistry, ContainerRegistryGeoreplications
from stacks.interfaces import CommonProps


@dataclass(frozen=True, kw_only=True)
class RegistryProps(CommonProps):
    name: str
    zone_redundancy_enabled: bool
    untagged_retention_days: int
    geo_replication_locations: tuple[str, ...] = ()


class PlatformRegistry(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: RegistryProps) -> None:
        super().__init__(scope, construct_id)
        self.registry = ContainerRegistry(
            self,
            "registry",
            name=props.name,
            location=props.location,
            resource_group_name=props.resource_group_name,
            sku="Premium",
            admin_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access_enabled=False,
            # Trusted Azure services (AML image builds) still reach a private registry.
            network_rule_bypass_option="AzureServices",
            data_endpoint_enabled=True,
            export_policy_enabled=False,
            quarantine_policy_enabled=False,
            zone_redundancy_enabled=props.zone_redundancy_enabled,
            retention_policy_in_days=props.untagged_retention_days,
            georeplications=[
                ContainerRegistryGeoreplications(
                    location=location, zone_redundancy_enabled=props.zone_redundancy_enabled, tags=dict(props.tags)
                )
                for location in props.geo_replication_locations
            ]
            or None,
            tags=dict(props.tags),
        )
        self.private_endpoints, self.role_assignments, _ = declare_interfaces(
            self, resource_id=self.registry.id, resource_name=props.name, props=props
        )
