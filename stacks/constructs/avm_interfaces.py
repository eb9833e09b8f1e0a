"""Declares the AVM interfaces (private endpoints, role assignments, diagnostic
settings) for any service construct, so every service gets them the same way."""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from stacks.framework import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
    PrivateEndpoint,
    PrivateEndpointPrivateDnsZoneGroup,
    PrivateEndpointPrivateServiceConnection,
    RoleAssignment,
)
from stacks.interfaces import CommonProps, DiagnosticSettingsSpec, PrivateEndpointSpec, RoleAssignmentSpec


def declare_private_endpoints(
    scope: Construct,
    *,
    resource_id: str,
    resource_name: str,
    props: CommonProps,
    endpoints: Mapping[str, PrivateEndpointSpec],
) -> dict[str, PrivateEndpoint]:
    """A private endpoint per map entry, each with a DNS zone group."""
    declared: dict[str, PrivateEndpoint] = {}
    for key, spec in sorted(endpoints.items()):
        name = spec.name or f"pe-{resource_name}-{key}"
        declared[key] = PrivateEndpoint(
            scope,
            f"private_endpoint_{key}",
            name=name,
            location=props.location,
            resource_group_name=props.resource_group_name,
            subnet_id=spec.subnet_id,
            custom_network_interface_name=f"nic-{name}",
            private_service_connection=PrivateEndpointPrivateServiceConnection(
                name=f"psc-{resource_name}-{key}",
                private_connection_resource_id=resource_id,
                subresource_names=[spec.subresource_name],
                is_manual_connection=False,
            ),
            private_dns_zone_group=PrivateEndpointPrivateDnsZoneGroup(
                name="default", private_dns_zone_ids=list(spec.private_dns_zone_ids)
            ),
            tags=dict(props.tags),
        )
    return declared


def declare_role_assignments(
    scope: Construct, *, resource_id: str, assignments: Mapping[str, RoleAssignmentSpec]
) -> list[RoleAssignment]:
    """Role assignments scoped to exactly this resource."""
    return [
        RoleAssignment(
            scope,
            f"role_assignment_{key}",
            scope=resource_id,
            principal_id=spec.principal_id,
            principal_type=spec.principal_type,
            role_definition_name=spec.role_definition_name,
            description=spec.description,
        )
        for key, spec in sorted(assignments.items())
    ]


def declare_diagnostic_settings(
    scope: Construct,
    *,
    target_resource_id: str,
    resource_name: str,
    settings: Mapping[str, DiagnosticSettingsSpec],
    id_prefix: str = "diagnostic_setting",
) -> list[MonitorDiagnosticSetting]:
    """Diagnostic settings sending logs and metrics to Log Analytics."""
    return [
        MonitorDiagnosticSetting(
            scope,
            f"{id_prefix}_{key}",
            name=f"diag-{resource_name}-{key}",
            target_resource_id=target_resource_id,
            log_analytics_workspace_id=spec.workspace_resource_id,
            enabled_log=[MonitorDiagnosticSettingEnabledLog(category_group=g) for g in spec.log_category_groups]
            + [MonitorDiagnosticSettingEnabledLog(category=c) for c in spec.log_categories],
            enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category=c) for c in spec.metric_categories],
        )
        for key, spec in sorted(settings.items())
    ]


def declare_interfaces(
    scope: Construct,
    *,
    resource_id: str,
    resource_name: str,
    props: CommonProps,
) -> tuple[dict[str, PrivateEndpoint], list[RoleAssignment], list[MonitorDiagnosticSetting]]:
    """All three AVM interfaces of one service."""
    endpoints = declare_private_endpoints(
        scope, resource_id=resource_id, resource_name=resource_name, props=props, endpoints=props.private_endpoints
    )
    roles = declare_role_assignments(scope, resource_id=resource_id, assignments=props.role_assignments)
    diagnostics = declare_diagnostic_settings(
        scope, target_resource_id=resource_id, resource_name=resource_name, settings=props.diagnostic_settings
    )
    return endpoints, roles, diagnostics
