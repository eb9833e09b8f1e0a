"""Project rules for the access stack's resources (registered in ``stacks.policy.RULES``).

GR009 federated credentials trust one exact subject of an https issuer, for Azure's token exchange.
GR010 custom roles stay narrow: no wildcard or authorization actions, no data actions, assignable
      below subscription level.
GR011 a role that can assign roles carries an ABAC condition.
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


ACCESS_RULES: dict[str, tuple[str, Rule]] = {
    "GR009": ("federated credentials trust one exact subject of an https issuer", rule_federated_credentials),
    "GR010": (
        "custom roles: no wildcard or authorization actions, no data actions, not subscription-wide",
        rule_narrow_custom_roles,
    ),
    "GR011": ("a role that can assign roles carries an ABAC condition", rule_conditioned_role_admins),
}
