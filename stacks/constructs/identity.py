"""User-assigned managed identity: the AML workspace's primary identity."""

from __future__ import annotations

from collections.abc import Mapping

from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct


class WorkloadIdentity(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        location: str,
        resource_group_name: str,
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.identity = UserAssignedIdentity(
            self, "identity", name=name, location=location, resource_group_name=resource_group_name, tags=dict(tags)
        )
