"""Construct props shaped like the Azure Verified Modules interfaces.

AVM modules take ``private_endpoints`` (a map keyed by a stable name),
``role_assignments`` (a map as well), ``diagnostic_settings``, ``tags`` and
``managed_identities``. Keys of the maps become parts of logical IDs, so they
must stay stable: renaming one replaces the cloud resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class PrivateEndpointSpec:
    """One private endpoint of a service (AVM ``private_endpoints`` entry)."""

    subnet_id: str
    subresource_name: str
    private_dns_zone_ids: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class RoleAssignmentSpec:
    """A role granted on the construct's resource (AVM ``role_assignments`` entry).

    ``role_definition_name`` is a built-in role name; ``description`` says why
    the grant exists (it is written to the assignment in Azure).
    """

    principal_id: str
    role_definition_name: str
    description: str
    principal_type: str = "ServicePrincipal"


@dataclass(frozen=True, kw_only=True)
class DiagnosticSettingsSpec:
    """Where and what a service sends to Log Analytics (AVM ``diagnostic_settings``)."""

    workspace_resource_id: str
    log_category_groups: tuple[str, ...] = ("allLogs",)
    log_categories: tuple[str, ...] = ()
    metric_categories: tuple[str, ...] = ("AllMetrics",)


@dataclass(frozen=True, kw_only=True)
class ManagedIdentitiesSpec:
    """AVM ``managed_identities``: we only use user-assigned identities."""

    user_assigned_resource_ids: tuple[str, ...] = ()
    system_assigned: bool = False


@dataclass(frozen=True, kw_only=True)
class CommonProps:
    """Props every service construct takes."""

    location: str
    resource_group_name: str
    tags: Mapping[str, str] = field(default_factory=dict)
    private_endpoints: Mapping[str, PrivateEndpointSpec] = field(default_factory=dict)
    role_assignments: Mapping[str, RoleAssignmentSpec] = field(default_factory=dict)
    diagnostic_settings: Mapping[str, DiagnosticSettingsSpec] = field(default_factory=dict)
