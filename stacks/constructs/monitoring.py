"""Log Analytics workspace and workspace-based Application Insights."""

from __future__ import annotations

from collections.abc import Mapping

from cdktf_cdktf_provider_azurerm.application_insights import ApplicationInsights
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from constructs import Construct


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_analytics_name: str,
        application_insights_name: str,
        location: str,
        resource_group_name: str,
        retention_days: int,
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_analytics = LogAnalyticsWorkspace(
            self,
            "log_analytics",
            name=log_analytics_name,
            location=location,
            resource_group_name=resource_group_name,
            sku="PerGB2018",
            retention_in_days=retention_days,
            # Entra ID only: no shared workspace keys for agents or queries.
            local_authentication_enabled=False,
            tags=dict(tags),
        )
        self.application_insights = ApplicationInsights(
            self,
            "application_insights",
            name=application_insights_name,
            location=location,
            resource_group_name=resource_group_name,
            application_type="web",
            workspace_id=self.log_analytics.id,
            tags=dict(tags),
        )
