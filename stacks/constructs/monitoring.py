"""Log Analytics and workspace-based Application Insights, reachable only through an Azure Monitor
Private Link Scope (AMPLS).

Public ingestion and query are off on both, and Application Insights takes Entra ID ingestion
only (no instrumentation-key ingestion). Sources:
https://learn.microsoft.com/azure/azure-monitor/logs/private-link-security (access modes
"PrivateOnly"), https://learn.microsoft.com/azure/azure-monitor/logs/private-link-configure (the
``azuremonitor`` endpoint and its five DNS zones), and
https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication ("Disable local
authentication").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from constructs import Construct

from stacks.constructs.avm_interfaces import declare_private_endpoints
from stacks.framework import (
    ApplicationInsights,
    LogAnalyticsWorkspace,
    MonitorPrivateLinkScope,
    MonitorPrivateLinkScopedService,
)
from stacks.interfaces import CommonProps


@dataclass(frozen=True, kw_only=True)
class MonitoringProps(CommonProps):
    log_analytics_name: str
    application_insights_name: str
    private_link_scope_name: str
    retention_days: int


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: MonitoringProps) -> None:
        super().__init__(scope, construct_id)
        tags: Mapping[str, str] = props.tags
        self.log_analytics = LogAnalyticsWorkspace(
            self,
            "log_analytics",
            name=props.log_analytics_name,
            sku="PerGB2018",
            retention_in_days=props.retention_days,
            # Entra ID only: no shared workspace keys for agents or queries.
            local_authentication_enabled=False,
            internet_ingestion_enabled=False,
            internet_query_enabled=False,
            location=props.location,
            resource_group_name=props.resource_group_name,
            tags=dict(tags),
        )
        self.application_insights = ApplicationInsights(
            self,
            "application_insights",
            name=props.application_insights_name,
            application_type="web",
            workspace_id=self.log_analytics.id,
            local_authentication_disabled=True,
            internet_ingestion_enabled=False,
            internet_query_enabled=False,
            location=props.location,
            resource_group_name=props.resource_group_name,
            tags=dict(tags),
        )
        self.private_link_scope = MonitorPrivateLinkScope(
            self,
            "private_link_scope",
            name=props.private_link_scope_name,
            resource_group_name=props.resource_group_name,
            ingestion_access_mode="PrivateOnly",
            query_access_mode="PrivateOnly",
            tags=dict(tags),
        )
        for key, resource_id in (
            ("log_analytics", self.log_analytics.id),
            ("application_insights", self.application_insights.id),
        ):
            MonitorPrivateLinkScopedService(
                self,
                f"scoped_service_{key}",
                name=f"{props.private_link_scope_name}-{key.replace('_', '-')}",
                resource_group_name=props.resource_group_name,
                scope_name=self.private_link_scope.name,
                linked_resource_id=resource_id,
            )
        self.private_endpoints = declare_private_endpoints(
            self,
            resource_id=self.private_link_scope.id,
            resource_name=props.private_link_scope_name,
            props=props,
            endpoints=props.private_endpoints,
        )
