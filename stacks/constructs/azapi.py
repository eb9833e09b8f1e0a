"""Declares ``azapi_resource`` generically (there is no prebuilt azapi binding for CDKTF).

Every body declared here is validated offline against the ARM type definitions azapi ships
(``policy/azapi_preflight.py``), and azapi's own ``schema_validation_enabled`` stays on, so an
unknown property fails the plan instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from constructs import Construct

from stacks.framework import ITerraformDependable, TerraformProvider, TerraformResource, Token


def azapi_resource(
    scope: Construct,
    construct_id: str,
    *,
    provider: TerraformProvider,
    type_: str,
    name: str,
    parent_id: str,
    body: Mapping[str, Any],
    location: str | None = None,
    tags: Mapping[str, str] | None = None,
    user_assigned_identity_ids: Sequence[str] = (),
    response_export_values: Sequence[str] = (),
    depends_on: Sequence[ITerraformDependable] = (),
) -> TerraformResource:
    resource = TerraformResource(
        scope,
        construct_id,
        terraform_resource_type="azapi_resource",
        provider=provider,
        depends_on=list(depends_on) or None,
    )
    settings: dict[str, Any] = {
        "type": type_,
        "name": name,
        "parent_id": parent_id,
        "body": dict(body),
        "schema_validation_enabled": True,
    }
    if location is not None:
        settings["location"] = location
    if user_assigned_identity_ids:
        settings["identity"] = [{"type": "UserAssigned", "identity_ids": list(user_assigned_identity_ids)}]
    if response_export_values:
        settings["response_export_values"] = list(response_export_values)
    if tags is not None:
        settings["tags"] = dict(tags)
    for key, value in settings.items():
        resource.add_override(key, value)
    return resource


def attribute(resource: TerraformResource, name: str) -> str:
    """A string attribute of a generic resource (``id``, ``name``, ``output.properties.x``)."""
    return Token.as_string(resource.interpolation_for_attribute(name))
