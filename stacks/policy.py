"""Project policy rules, checked at synth time by a CDKTF Aspect (in the spirit of cdk-nag).

The aspect runs when a stack is prepared for synthesis, before anything is
written. It evaluates the stack's resolved Terraform document (exactly what
synth would write, each resource carrying its construct path) and aborts synth
with one line per violation: construct path, rule id, rule, fix.

A rule can be suppressed for a construct (and everything below it) with
``suppress(construct, rule_id, reason)``; the reason must be a full sentence a
reviewer can judge.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsii
from constructs import IConstruct

from stacks.framework import IAspect, TerraformResource, TerraformStack

VIOLATION_PREFIX = "policy violation"
REQUIRED_TAGS = ("environment", "project", "provisioner", "owner", "cost_center")

BROAD_ROLES = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-49ae-bc48-b86b4ab1f0b1",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
}
PRIVATE_SERVICES = (
    "azurerm_storage_account",
    "azurerm_key_vault",
    "azurerm_container_registry",
    "azurerm_machine_learning_workspace",
)
# Azure ML workspaces are declared with azapi (body.properties.publicNetworkAccess).
AZAPI_PRIVATE_TYPES = ("Microsoft.MachineLearningServices/workspaces@",)
CMK_KEY_TYPE = "Microsoft.KeyVault/vaults/keys@"
SECRET_PATTERNS = {
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a storage account key": re.compile(r"AccountKey=[A-Za-z0-9+/=]{20,}", re.IGNORECASE),
    "a shared access signature": re.compile(r"(?:SharedAccessSignature=|[?&]sig=)[A-Za-z0-9%+/=]{20,}"),
    "a password in a connection string": re.compile(r"(?:Password|Pwd)=[^;${\s]{4,}", re.IGNORECASE),
    "a base64 access key": re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])"),
    "a JSON web token": re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
}
SECRET_KEYS = re.compile(r"(?:^|_)(?:password|secret|client_secret|access_key|account_key|sas_token)$")


@dataclass(frozen=True)
class Violation:
    path: str
    rule_id: str
    message: str
    fix: str

    def line(self) -> str:
        return f"{VIOLATION_PREFIX}: {self.path}: {self.rule_id} {self.message}; fix: {self.fix}"


class PolicyViolationError(Exception):
    """Raised inside synth; crosses jsii as a RuntimeError carrying these lines."""


# --- suppressions ------------------------------------------------------------
# Kept per app, keyed weakly by its root construct: (construct path, rule id) -> reason. A suppression
# lives and dies with its construct tree, so one app's (or one test's) waiver never leaks into another.
# cdk-nag keeps them as node metadata (NagSuppressions writes a ``cdk_nag`` entry); reading metadata
# back here meant walking every construct through jsii (about 600 round trips to the Node kernel,
# 0.19 s of a 1.7 s synth).
_DECLARED: weakref.WeakKeyDictionary[IConstruct, dict[tuple[str, str], str]] = weakref.WeakKeyDictionary()


def suppress(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Waive ``rule_id`` for ``construct`` and its children, with a written reason."""
    if rule_id not in RULES:
        raise ValueError(f"unknown policy rule {rule_id!r}; known rules: {', '.join(sorted(RULES))}")
    if len(reason.split()) < 5 or not reason.rstrip().endswith("."):
        raise ValueError(f"suppressing {rule_id} on {construct.node.path} needs a reason of at least one full sentence")
    _DECLARED.setdefault(construct.node.root, {})[(construct.node.path, rule_id)] = reason


def suppressions(stack: IConstruct) -> dict[tuple[str, str], str]:
    """(construct path, rule id) -> reason, for every suppression declared inside ``stack``."""
    declared = _DECLARED.get(stack.node.root, {})
    if not declared:
        return {}
    prefix = stack.node.path
    return {
        (path, rule): why for (path, rule), why in declared.items() if path == prefix or path.startswith(prefix + "/")
    }


def _suppressed(waived: Mapping[tuple[str, str], str], path: str, rule_id: str) -> bool:
    """A suppression covers its construct and everything below it, never a sibling sharing a prefix."""
    return any(rule == rule_id and (path == p or path.startswith(p + "/")) for p, rule in waived)


# --- the rules -----------------------------------------------------------------

Document = Mapping[str, Any]


def _resources(document: Document, resource_type: str | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for rtype, items in document.get("resource", {}).items():
        if resource_type is None or rtype == resource_type:
            for logical_id, body in items.items():
                yield rtype, logical_id, body


def _path(body: Mapping[str, Any]) -> str:
    return str(body.get("//", {}).get("metadata", {}).get("path", "?"))


def rule_no_broad_roles(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    for _, _, body in _resources(document, "azurerm_role_assignment"):
        name, role_id = body.get("role_definition_name"), str(body.get("role_definition_id", "")).lower()
        for role, guid in BROAD_ROLES.items():
            if name == role or role_id.endswith(guid):
                yield Violation(
                    _path(body),
                    "GR001",
                    f"assigns the broad role {role!r}",
                    "grant the narrowest built-in role the workload needs, at the narrowest scope",
                )


def rule_private_only(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    endpoints = [body for _, _, body in _resources(document, "azurerm_private_endpoint")]
    for rtype in PRIVATE_SERVICES:
        for _, logical_id, body in _resources(document, rtype):
            if body.get("public_network_access_enabled") is not False:
                yield Violation(
                    _path(body),
                    "GR002",
                    f"{rtype} must set public_network_access_enabled = false",
                    "set public_network_access_enabled=False",
                )
            reference = f"${{{rtype}.{logical_id}.id}}"
            served = [
                e
                for e in endpoints
                if e.get("private_service_connection", {}).get("private_connection_resource_id") == reference
            ]
            if not served:
                yield Violation(
                    _path(body),
                    "GR002",
                    f"{rtype} has no private endpoint",
                    "add an entry to the construct's private_endpoints map",
                )
            elif not all(e.get("private_dns_zone_group", {}).get("private_dns_zone_ids") for e in served):
                yield Violation(
                    _path(body),
                    "GR002",
                    f"a private endpoint of {rtype} has no DNS zone group",
                    "give every private endpoint a private_dns_zone_group with its privatelink zone",
                )


def rule_private_azapi(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    endpoints = [body for _, _, body in _resources(document, "azurerm_private_endpoint")]
    for _, logical_id, body in _resources(document, "azapi_resource"):
        if not str(body.get("type", "")).startswith(AZAPI_PRIVATE_TYPES):
            continue
        if body.get("body", {}).get("properties", {}).get("publicNetworkAccess") != "Disabled":
            yield Violation(
                _path(body),
                "GR002",
                f"{body['type']} must set publicNetworkAccess = Disabled",
                'set body.properties.publicNetworkAccess="Disabled"',
            )
        reference = f"${{azapi_resource.{logical_id}.id}}"
        if not any(
            e.get("private_service_connection", {}).get("private_connection_resource_id") == reference
            and e.get("private_dns_zone_group", {}).get("private_dns_zone_ids")
            for e in endpoints
        ):
            yield Violation(
                _path(body),
                "GR002",
                f"{body['type']} has no private endpoint with a DNS zone group",
                "add an entry to the construct's private_endpoints map",
            )


def _azurerm_features(document: Document) -> dict[str, Any]:
    providers = document.get("provider", {}).get("azurerm", [])
    first = providers[0] if isinstance(providers, list) and providers else {}
    features = first.get("features", [{}]) if isinstance(first, dict) else [{}]
    return dict(features[0]) if features else {}


def rule_no_storage_data_plane(document: Document, stack: TerraformStack) -> Iterator[Violation]:
    """azurerm 4.x polls the storage data plane after create and on refresh unless told not to;
    with public access off that is HTTP 403 (azurerm v4.55.0
    internal/services/storage/storage_account_resource.go; features guide, storage block)."""
    private_accounts = [
        body
        for _, _, body in _resources(document, "azurerm_storage_account")
        if body.get("public_network_access_enabled") is False
    ]
    if not private_accounts:
        return
    storage = (_azurerm_features(document).get("storage") or [{}])[0]
    if storage.get("data_plane_available") is not False:
        yield Violation(
            f"{stack.node.path}/azurerm",
            "GR006",
            "a storage account has public access off but the provider still polls its data plane (HTTP 403)",
            "set features.storage.data_plane_available=False on the azurerm provider",
        )
    for body in private_accounts:
        for argument in ("queue_properties", "static_website"):
            if body.get(argument):
                yield Violation(
                    _path(body),
                    "GR006",
                    f"sets {argument}, which needs the storage data plane",
                    f"remove {argument} (configure it inside the VNet, or not at all)",
                )


def rule_grants_wait(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    """Role assignments propagate in up to 10 minutes (Azure RBAC troubleshooting guide); a
    resource that depends on a grant directly runs before it is effective."""
    for rtype, _, body in _resources(document):
        if rtype == "time_sleep":
            continue
        direct = [d for d in body.get("depends_on", []) if str(d).startswith("azurerm_role_assignment.")]
        if direct:
            yield Violation(
                _path(body),
                "GR007",
                f"depends on the grant {direct[0]} directly, without waiting for it to propagate",
                "depend on a time_sleep after the grant (stacks.constructs.rbac_wait.propagation_wait)",
            )


def rule_cmk_vault_isolated(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    """A vault holding a customer-managed key must be out of every workload's reach: a vault-wide
    grant (e.g. Key Vault Administrator, or Azure AI Administrator's Microsoft.KeyVault/*) lets
    the grantee disable the key or open the vault's network, and take the data offline."""
    cmk_vaults = {
        str(body.get("parent_id"))
        for _, _, body in _resources(document, "azapi_resource")
        if str(body.get("type", "")).startswith(CMK_KEY_TYPE)
    }
    for _, _, body in _resources(document, "azurerm_role_assignment"):
        if body.get("scope") in cmk_vaults:
            yield Violation(
                _path(body),
                "GR008",
                f"grants {body.get('role_definition_name') or body.get('role_definition_id')!r} on a vault holding a "
                "customer-managed key",
                "keep CMK vaults grant-free; grant only Key Vault Crypto Service Encryption User on the key itself",
            )
    for _, _, body in _resources(document, "azapi_resource"):
        properties = body.get("body", {}).get("properties", {})
        if isinstance(properties, dict) and properties.get("keyVault") in cmk_vaults:
            yield Violation(
                _path(body),
                "GR008",
                "links a vault holding a customer-managed key as its workload Key Vault",
                "give the workload its own Key Vault",
            )


def rule_storage_keys_and_purge(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    for _, _, body in _resources(document, "azurerm_storage_account"):
        if body.get("shared_access_key_enabled") is not False:
            yield Violation(
                _path(body),
                "GR003",
                "storage shared-key authorization must be disabled",
                "set shared_access_key_enabled=False (Entra ID only)",
            )
    for _, _, body in _resources(document, "azurerm_key_vault"):
        if body.get("purge_protection_enabled") is not True:
            yield Violation(
                _path(body), "GR003", "Key Vault purge protection must be on", "set purge_protection_enabled=True"
            )


def is_taggable(node: Any) -> bool:
    """Taggable resources (azurerm and azapi) expose a ``tags`` argument (``tags_input``)."""
    return isinstance(node, TerraformResource) and hasattr(node, "tags_input")


def rule_required_tags(_document: Document, stack: TerraformStack) -> Iterator[Violation]:
    for node in stack.node.find_all():
        if is_taggable(node):
            tags = node.tags_input or {}  # type: ignore[attr-defined]
            missing = [tag for tag in REQUIRED_TAGS if tag not in tags]
            if missing:
                yield Violation(
                    node.node.path,
                    "GR004",
                    f"is missing the required tags {', '.join(missing)}",
                    "pass the stack's tags to the construct (its tags= argument)",
                )


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for child_key, child in value.items():
            if child_key != "//":
                yield from _strings(child, str(child_key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)
    elif isinstance(value, str):
        yield key, value


def _secret_findings(content: Any) -> Iterator[str]:
    for key, text in _strings(content):
        for label, pattern in SECRET_PATTERNS.items():
            if pattern.search(text):
                yield f"{label} in {key!r}"
        if SECRET_KEYS.search(key.lower()) and text and not text.startswith("${"):
            yield f"a literal {key!r}"


def rule_no_secret_literals(document: Document, _stack: TerraformStack) -> Iterator[Violation]:
    located: list[tuple[str, Any]] = [(_path(body), body) for _, _, body in _resources(document)]
    stack_name = document_path(document)
    located += [
        (f"{stack_name}/{section}", document.get(section, {}))
        for section in ("provider", "output", "variable", "locals", "terraform")
    ]
    for path, content in located:
        for finding in _secret_findings(content):
            yield Violation(
                path,
                "GR005",
                f"contains {finding} (value not shown)",
                "reference the secret from Key Vault or a sensitive variable; never a literal",
            )


def rule_private_everywhere(document: Document, stack: TerraformStack) -> Iterator[Violation]:
    yield from rule_private_only(document, stack)
    yield from rule_private_azapi(document, stack)


def document_path(document: Document) -> str:
    return str(document.get("//", {}).get("metadata", {}).get("stackName", "?"))


Rule = Callable[[Document, TerraformStack], Iterator[Violation]]
RULES: dict[str, tuple[str, Rule]] = {
    "GR001": ("no Owner, Contributor or User Access Administrator role assignments", rule_no_broad_roles),
    "GR002": (
        "storage, Key Vault, registry and workspace are private, with endpoints and DNS zone groups",
        rule_private_everywhere,
    ),
    "GR003": ("storage shared-key auth off; Key Vault purge protection on", rule_storage_keys_and_purge),
    "GR004": ("every taggable resource carries the required tags", rule_required_tags),
    "GR005": ("no secret-looking literal anywhere in the synthesized JSON", rule_no_secret_literals),
    "GR006": (
        "no storage data-plane access by Terraform when storage public access is off",
        rule_no_storage_data_plane,
    ),
    "GR007": ("nothing depends on a role assignment without a propagation wait", rule_grants_wait),
    "GR008": ("vaults holding customer-managed keys have no grants and no workload", rule_cmk_vault_isolated),
}


def evaluate(stack: TerraformStack) -> list[Violation]:
    """All unsuppressed violations of a stack."""
    document = stack.to_terraform()
    violations = [v for _, rule in RULES.values() for v in rule(document, stack)]
    waived = suppressions(stack)
    return [v for v in violations if not _suppressed(waived, v.path, v.rule_id)]


@jsii.implements(IAspect)
class PolicyAspect:
    """Aborts synth when a stack breaks a project rule."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, TerraformStack):
            violations = evaluate(node)
            if violations:
                raise PolicyViolationError("\n".join(v.line() for v in violations))


def policy_lines(error: BaseException) -> list[str] | None:
    """The violation lines carried by an exception that crossed jsii, if it is one."""
    lines = [line for line in str(error).splitlines() if line.startswith(VIOLATION_PREFIX)]
    return lines or None


# The access stack's rules (GR009-GR012) live with it; registered here so every stack gets them.
from stacks.access_policy import ACCESS_RULES  # noqa: E402  (imports this module's helpers)

RULES.update(ACCESS_RULES)
