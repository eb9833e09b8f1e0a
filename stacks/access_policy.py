"""Project rules for the access stack's resources (registered in ``stacks.policy.RULES``).

GR009 federated credentials trust one exact subject of an https issuer, for Azure's token exchange.
GR010 custom roles stay narrow: no wildcard or authorization actions, no data actions, assignable
      below subscription level.
GR011 a role that can assign roles carries an ABAC condition.
GR012 a principal from outside the stacks (an object ID from config, e.g. the Snowflake storage
      integration's) is granted nothing above container scope on a storage account.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from stacks.naming import FEDERATION_AUDIENCE, GITHUB_OIDC_ISSUER

if TYPE_CHECKING:
    from stacks.framework import TerraformStack
    from stacks.policy import Document, Rule, Violation

# Built-in roles whose holder may write role assignments (besides the broad ones GR001 forbids).
ROLE_ASSIGNING_ROLES = {"Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168"}
KUBERNETES_SUBJECT = re.compile(r"system:serviceaccount:[a-z0-9][-a-z0-9]*:[a-z0-9][-.a-z0-9]*")
GITHUB_SUBJECT = re.compile(r"repo:[A-Za-z0-9-]+/[A-Za-z0-9._-]+:[^*]+")
# A subscription, management group or the root: too wide for a custom role's assignable scope.
WIDE_SCOPE = re.compile(
    r"/|/subscriptions/[^/]+|/providers/Microsoft\.Management/managementGroups/[^/]+", re.IGNORECASE
)

# An object ID written into the stacks (from config), as opposed to a reference to an identity the
# stacks declare or look up (``${...principal_id}``): that principal belongs to someone else.
OBJECT_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
RESOURCE_GROUP_SCOPE = re.compile(r"/subscriptions/[^/]+/resourceGroups/[^/]+", re.IGNORECASE)
RESOURCE_GROUP_REFERENCE = re.compile(r"\$\{(?:data\.)?azurerm_resource_group\.[^.}]+\.id\}")


def _violation(body: dict[str, object], rule_id: str, message: str, fix: str) -> Violation:
    from stacks.policy import Violation, _path

    return Violation(_path(body), rule_id, message, fix)


def rule_federated_credentials(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    from stacks.policy import _resources

    for _, _, body in _resources(document, "azurerm_federated_identity_credential"):
        issuer, subject = str(body.get("issuer", "")), str(body.get("subject", ""))
        if body.get("audience") != [FEDERATION_AUDIENCE]:
            yield _violation(
                body, "GR009", "audience must be exactly the token exchange", f"set [{FEDERATION_AUDIENCE!r}]"
            )
        if not issuer.startswith("https://"):
            yield _violation(body, "GR009", f"issuer {issuer!r} is not an https URL", "use the cluster's OIDC issuer")
        kind, pattern = (
            ("GitHub", GITHUB_SUBJECT) if issuer == GITHUB_OIDC_ISSUER else ("ServiceAccount", KUBERNETES_SUBJECT)
        )
        if not pattern.fullmatch(subject) or "*" in subject:
            yield _violation(
                body,
                "GR009",
                f"subject {subject!r} is not one exact {kind} subject",
                "trust one subject from stacks/naming.py (no wildcard)",
            )


def rule_narrow_custom_roles(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    from stacks.policy import _resources

    for _, _, body in _resources(document, "azurerm_role_definition"):
        for permission in body.get("permissions", []):
            for action in permission.get("actions", []):
                if action == "*" or action.startswith("*/") or action.lower().startswith("microsoft.authorization/"):
                    yield _violation(
                        body, "GR010", f"custom role allows {action!r}", "list the resource providers it needs"
                    )
            if permission.get("data_actions"):
                yield _violation(body, "GR010", "custom role has data actions", "grant a built-in data role instead")
        for scope in body.get("assignable_scopes", []):
            if WIDE_SCOPE.fullmatch(str(scope)):
                yield _violation(
                    body, "GR010", f"custom role is assignable at {scope!r}", "scope it to a resource group"
                )


def rule_conditioned_role_admins(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    from stacks.policy import _resources

    for _, _, body in _resources(document, "azurerm_role_assignment"):
        name, role_id = body.get("role_definition_name"), str(body.get("role_definition_id", "")).lower()
        for role, guid in ROLE_ASSIGNING_ROLES.items():
            if (name == role or role_id.endswith(guid)) and not body.get("condition"):
                yield _violation(
                    body,
                    "GR011",
                    f"assigns {role!r} without a condition",
                    "add an ABAC condition limiting the roles it may assign (stacks/access_roles.py)",
                )


def _covers_a_storage_account(scope: str, accounts: set[str]) -> str | None:
    """What ``scope`` is, if it holds a whole storage account's data (not just one container).

    Recognised: the document's accounts, literal ARM paths, resource group and subscription
    references. A scope read from another stack's outputs (``terraform_remote_state``) is opaque
    here; the ML platform stack grants the integration from its own container resource.
    """
    if "/containers/" in scope or scope.startswith("${azurerm_storage_container."):
        return None
    if scope in accounts or re.search(r"/providers/Microsoft\.Storage/storageAccounts/", scope, re.IGNORECASE):
        return "a storage account"
    if RESOURCE_GROUP_SCOPE.fullmatch(scope) or RESOURCE_GROUP_REFERENCE.fullmatch(scope):
        return "a resource group"
    if WIDE_SCOPE.fullmatch(scope) or scope.startswith("${data.azurerm_subscription."):
        return "a subscription or wider"
    return None


def rule_outside_principals_on_one_container(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    """Snowflake's integration principal must reach the raw container only: at the account (or its
    group or subscription) a data role would open every container, the curated one included."""
    from stacks.policy import _resources

    accounts = {
        f"${{azurerm_storage_account.{logical_id}.id}}"
        for _, logical_id, _ in _resources(document, "azurerm_storage_account")
    }
    if not accounts:
        return
    for _, _, body in _resources(document, "azurerm_role_assignment"):
        principal, scope = str(body.get("principal_id", "")), str(body.get("scope", ""))
        what = _covers_a_storage_account(scope, accounts) if OBJECT_ID.fullmatch(principal) else None
        if what:
            yield _violation(
                body,
                "GR012",
                f"grants {body.get('role_definition_name') or body.get('role_definition_id')!r} to outside principal "
                f"{principal} on {what}, above container scope",
                "grant it on the one container it writes to (stacks/constructs/unload_access.py)",
            )


ACCESS_RULES: dict[str, tuple[str, Rule]] = {
    "GR009": ("federated credentials trust one exact subject of an https issuer", rule_federated_credentials),
    "GR010": (
        "custom roles: no wildcard or authorization actions, no data actions, not subscription-wide",
        rule_narrow_custom_roles,
    ),
    "GR011": ("a role that can assign roles carries an ABAC condition", rule_conditioned_role_admins),
    "GR012": (
        "principals from outside the stacks get nothing above container scope on storage",
        rule_outside_principals_on_one_container,
    ),
}
