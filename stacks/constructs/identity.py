"""User-assigned managed identity: the AML workspace's primary identity."""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from stacks.framework import UserAssignedIdentity


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
