"""The data-bootstrap identity's rights on the platform (docs/data_bootstrap.md, "Access each identity needs").

Declared in the ML platform stack because the scopes (workspace, Key Vault, raw container) exist
only there; the identity itself comes from the access stack, looked up by name.
"""

from __future__ import annotations

from constructs import Construct

from stacks.access_roles import unload_approval_needed
from stacks.config import EnvironmentConfig
from stacks.constructs.unload_access import approver_role_definition_resource_id
from stacks.framework import DataAzurermUserAssignedIdentity, RoleAssignment
from stacks.naming import DATA_BOOTSTRAP, identity_name

# key -> (role, what the scope is, why), the table in docs/data_bootstrap.md.
DATA_BOOTSTRAP_GRANTS: dict[str, tuple[str, str, str]] = {
    "workspace": ("AzureML Data Scientist", "workspace", "registers the connection, datastore and data asset"),
    "key-vault": ("Key Vault Secrets User", "key_vault", "reads the Snowflake key (apply only)"),
    "raw-container": ("Storage Blob Data Contributor", "raw_container", "writes the Parquet folder"),
}
# With the unload engine: the custom role of stacks/constructs/unload_access.py on the storage
# account, to approve the private endpoint connection Snowflake's outbound private link creates.
UNLOAD_APPROVAL_GRANT = (
    "storage-private-endpoint-approver",
    "storage_account",
    "approves Snowflake's private endpoint",
)


def grant_data_bootstrap(
    scope: Construct,
    *,
    config: EnvironmentConfig,
    workspace_id: str,
    key_vault_id: str,
    raw_container_id: str,
    storage_account_id: str,
    subscription_id: str,
) -> list[RoleAssignment]:
    """The three grants (four with the unload engine), for azurerm-backed environments (the only ones
    the pipelines run)."""
    if config.backend.type != "azurerm":
        return []
    holder = Construct(scope, "data_bootstrap_access")
    identity = DataAzurermUserAssignedIdentity(
        holder,
        "identity",
        name=identity_name(config.environment.project, DATA_BOOTSTRAP, config.name),
        resource_group_name=config.runners.resource_group,
    )
    # The Key Vault scope, as the docs table says, not the one secret: the secret is uploaded
    # after deploy, so a secret-scoped assignment could not be declared before it exists. The
    # role reads secrets only (not the storage CMK, a key); the vault is also the workspace's,
    # so this identity can read the workspace's own secrets too, which it could obtain through
    # AzureML Data Scientist on the workspace's connections anyway.
    # A container created with storage_account_id has the resource manager ID as its id
    # (azurerm v4.55.0 internal/services/storage/storage_container_resource.go, NewStorageContainerID),
    # so it is a valid role assignment scope.
    targets = {"workspace": workspace_id, "key_vault": key_vault_id, "raw_container": raw_container_id}
    grants = [
        RoleAssignment(
            holder,
            f"role_assignment_{key}",
            scope=targets[target],
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_name=role,
            description=f"data-bootstrap: {why}.",
        )
        for key, (role, target, why) in DATA_BOOTSTRAP_GRANTS.items()
    ]
    if unload_approval_needed(config):
        key, _, why = UNLOAD_APPROVAL_GRANT
        # By ID: a custom role's GUID is what the deployer's ABAC condition checks.
        grants.append(
            RoleAssignment(
                holder,
                f"role_assignment_{key}",
                scope=storage_account_id,
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=approver_role_definition_resource_id(config, subscription_id),
                description=f"data-bootstrap: {why}.",
            )
        )
    return grants
