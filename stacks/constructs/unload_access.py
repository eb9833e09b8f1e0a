"""Azure side of the ``unload`` import engine: Snowflake writes the Parquet parts into the raw container.

Two grants and one custom role (docs/access.md, "Snowflake unload"):

- the Snowflake storage integration's service principal (``[unload].integration_principal_id``, an
  object ID in our tenant, created when an admin consents to Snowflake's multi-tenant app) gets
  *Storage Blob Data Contributor* on the raw container only: ``COPY INTO @stage`` writes there,
  and nothing else of ours is Snowflake's business (rule GR012 keeps it below the account);
- the data-bootstrap identity gets a custom role at the storage account that only lists and
  approves private endpoint connections, to approve the one Snowflake's outbound private link
  (``SYSTEM$PROVISION_PRIVATELINK_ENDPOINT``) creates. The role is defined by the access stack:
  creating a role definition needs ``Microsoft.Authorization/roleDefinitions/write`` on its
  assignable scopes ("Azure custom roles", azure-docs articles/role-based-access-control/custom-roles.md),
  which the deployer does not have; the assignment is declared here, next to the account.

Nothing in Terraform uses either grant (Snowflake and data_bootstrap do, after deploy), so no
propagation wait (rbac_wait.py) sits behind them.
"""

from __future__ import annotations

from constructs import Construct

from stacks.access_roles import (
    PRIVATE_ENDPOINT_APPROVER_ACTIONS,
    private_endpoint_approver_role_id,
    private_endpoint_approver_role_name,
    unload_approval_needed,
)
from stacks.config import EnvironmentConfig
from stacks.framework import RoleAssignment, RoleDefinition, RoleDefinitionPermissions

SNOWFLAKE_INTEGRATION_ROLE = "Storage Blob Data Contributor"


def grant_snowflake_integration(
    scope: Construct, *, config: EnvironmentConfig, raw_container_id: str
) -> RoleAssignment | None:
    """Write on the raw container for the integration's service principal, once its object ID is known."""
    principal_id = config.unload.integration_principal_id
    if not principal_id:
        return None
    return RoleAssignment(
        scope,
        "snowflake_integration_raw_container",
        scope=raw_container_id,
        principal_id=principal_id,
        # The consented multi-tenant app appears in our tenant as an enterprise application
        # (a service principal); with principal_type set, Azure skips the directory lookup that
        # fails for principals it cannot see yet ("Troubleshoot Azure RBAC",
        # https://learn.microsoft.com/azure/role-based-access-control/troubleshooting).
        principal_type="ServicePrincipal",
        role_definition_name=SNOWFLAKE_INTEGRATION_ROLE,
        description=f"Snowflake storage integration {config.unload.storage_integration}: COPY INTO writes the "
        "Parquet parts (raw container only).",
    )


def declare_private_endpoint_approver_role(
    scope: Construct, *, config: EnvironmentConfig, platform_resource_group_id: str
) -> RoleDefinition | None:
    """The custom role, in the access stack (applied by an Owner), when the unload engine needs it.

    Assignable at the platform resource group, assigned at the storage account only: Microsoft
    advises against resource instances in AssignableScopes ("Understand Azure role definitions",
    AssignableScopes, azure-docs articles/role-based-access-control/role-definitions.md), and the
    account does not exist yet when the access stack is applied.
    """
    if not unload_approval_needed(config):
        return None
    return RoleDefinition(
        scope,
        "private_endpoint_approver_role",
        role_definition_id=private_endpoint_approver_role_id(config),
        name=private_endpoint_approver_role_name(config),
        scope=platform_resource_group_id,
        description="Lists and approves private endpoint connections of a storage account (Snowflake unload).",
        permissions=[RoleDefinitionPermissions(actions=list(PRIVATE_ENDPOINT_APPROVER_ACTIONS))],
        assignable_scopes=[platform_resource_group_id],
    )


def approver_role_definition_resource_id(config: EnvironmentConfig, subscription_id: str) -> str:
    """What azurerm's ``role_definition_resource_id`` of the custom role is, built from its known GUID."""
    role_id = private_endpoint_approver_role_id(config)
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"
