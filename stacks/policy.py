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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsii
from cdktf import IAspect, TerraformStack
from constructs import IConstruct

from stacks.aspects import is_taggable

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

_SUPPRESSIONS: dict[tuple[str, str], str] = {}


def suppress(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Waive ``rule_id`` for ``construct`` and its children, with a written reason."""
    if rule_id not in RULES:
        raise ValueError(f"unknown policy rule {rule_id!r}; known rules: {', '.join(sorted(RULES))}")
    if len(reason.split()) < 5 or not reason.rstrip().endswith("."):
        raise ValueError(f"suppressing {rule_id} on {construct.node.path} needs a reason of at least one full sentence")
    _SUPPRESSIONS[(construct.node.path, rule_id)] = reason


def _suppressed(path: str, rule_id: str) -> bool:
    return any(rule == rule_id and (path == p or path.startswith(p + "/")) for p, rule in _SUPPRESSIONS)


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
                    "pass the stack's tags to the construct (or keep the TagsAspect on the stack)",
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


def document_path(document: Document) -> str:
    return str(document.get("//", {}).get("metadata", {}).get("stackName", "?"))


Rule = Callable[[Document, TerraformStack], Iterator[Violation]]
RULES: dict[str, tuple[str, Rule]] = {
    "GR001": ("no Owner, Contributor or User Access Administrator role assignments", rule_no_broad_roles),
    "GR002": (
        "storage, Key Vault, registry and workspace are private, with endpoints and DNS zone groups",
        rule_private_only,
    ),
    "GR003": ("storage shared-key auth off; Key Vault purge protection on", rule_storage_keys_and_purge),
    "GR004": ("every taggable resource carries the required tags", rule_required_tags),
    "GR005": ("no secret-looking literal anywhere in the synthesized JSON", rule_no_secret_literals),
}


def evaluate(stack: TerraformStack) -> list[Violation]:
    """All unsuppressed violations of a stack."""
    document = stack.to_terraform()
    violations = [v for _, rule in RULES.values() for v in rule(document, stack)]
    return [v for v in violations if not _suppressed(v.path, v.rule_id)]


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


# The access stack's rules (GR006-GR008) live with it; registered here so every stack gets them.
from stacks.access_policy import ACCESS_RULES  # noqa: E402  (imports this module's helpers)

RULES.update(ACCESS_RULES)
