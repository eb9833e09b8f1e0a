"""Preflight for azapi bodies: validate every body in the synthesized JSON against the ARM type
definitions the azapi provider itself ships, before Terraform ever sees it.

Why: ``azapi_update_resource`` silently drops a body property its embedded type definition does
not know for the chosen API version, and ``ignore_missing_property`` hides the drift (see
docs in ``../shared/azure-types/README.md``; azapi ``internal/azure/types/object_type.go``,
tag v2.12.0). So a property that does not exist in that version is a silent no-op in Azure.

The definitions are bicep-types JSON, one ``types.json`` per ``<namespace>/<api-version>`` (the
files azapi v2.12.0 embeds under ``internal/azure/generated``). Checked per body:

* AZ001 unknown property for that API version (names compared case-insensitively, as ARM does);
* AZ002 read-only property set;
* AZ003 enum value not allowed. Stricter than azapi: for an extensible enum (a union of literals
  and a free string) azapi accepts any string, but we require the spelling the version defines;
* AZ004 required property missing (not for ``azapi_update_resource``, whose body is a patch);
* AZ005 wrong JSON type (string/integer/boolean/object/array);
* AZ006 no type definition for the resource type and API version (add it, do not guess).

Terraform expressions (``${...}``) are unknown until apply and are not checked, as azapi does.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TYPES_DIR = REPO.parent / "shared" / "azure-types"
AZAPI_RESOURCE_TYPES = ("azapi_resource", "azapi_update_resource")
REQUIRED, READ_ONLY = 1, 2
# Set by azapi from its own arguments (name, type, parent_id, location, identity, tags).
ROOT_ARGUMENTS = {"name", "id", "type", "apiversion", "location", "identity", "tags"}

Node = dict[str, Any]


@dataclass(frozen=True)
class Finding:
    path: str
    code: str
    message: str
    fix: str

    def line(self) -> str:
        return f"{self.path}: {self.code} {self.message}; fix: {self.fix}"


class TypeCatalog:
    """The bicep-types files under one folder (``<namespace lower>/<api-version>/types.json``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def body_type(self, type_string: str) -> tuple[list[Node], Node] | None:
        """The node list of the file and the body ``ObjectType`` of ``Namespace/type@version``."""
        resource_type, _, version = type_string.partition("@")
        namespace = resource_type.split("/", 1)[0].lower()
        nodes = _load(self.root / namespace / version / "types.json")
        for node in nodes:
            if node.get("$type") == "ResourceType" and str(node.get("name", "")).lower() == type_string.lower():
                return nodes, _deref(nodes, node["body"])
        return None


@cache
def _load(path: Path) -> list[Node]:
    if not path.is_file():
        return []
    nodes: list[Node] = json.loads(path.read_text(encoding="utf-8"))
    return nodes


def _deref(nodes: list[Node], ref: Mapping[str, str]) -> Node:
    return nodes[int(ref["$ref"].rsplit("/", 1)[1])]


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


class _Validator:
    def __init__(self, nodes: list[Node], type_string: str, *, patch: bool) -> None:
        self.nodes, self.type_string, self.patch = nodes, type_string, patch
        self.problems: list[tuple[str, str, str, str]] = []

    def report(self, where: str, code: str, message: str, fix: str) -> None:
        self.problems.append((where, code, message, fix))

    def check(self, node: Node, value: Any, where: str) -> None:
        if value is None or _is_expression(value):
            return
        kind = node.get("$type")
        if kind == "ObjectType":
            self.check_object(node.get("properties", {}), node.get("additionalProperties"), value, where)
        elif kind == "DiscriminatedObjectType":
            self.check_discriminated(node, value, where)
        elif kind == "ArrayType":
            if not isinstance(value, list):
                self.report(where, "AZ005", "must be an array", "write a list")
                return
            for index, item in enumerate(value):
                self.check(_deref(self.nodes, node["itemType"]), item, f"{where}[{index}]")
        elif kind == "UnionType":
            self.check_union(node, value, where)
        elif kind == "StringLiteralType":
            self.check_literals([node["value"]], value, where)
        elif kind == "StringType" and not isinstance(value, str):
            self.report(where, "AZ005", f"must be a string, not {json.dumps(value)}", "quote the value")
        elif kind == "IntegerType":
            self.check_integer(node, value, where)
        elif kind == "BooleanType" and not isinstance(value, bool):
            self.report(where, "AZ005", f"must be true or false, not {json.dumps(value)}", "use a boolean")

    def check_object(self, properties: Mapping[str, Node], additional: Any, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            self.report(where or "body", "AZ005", "must be an object", "write a JSON object")
            return
        by_name = {name.lower(): (name, spec) for name, spec in properties.items()}
        for key, item in value.items():
            found = by_name.get(key.lower())
            path = f"{where}.{key}" if where else key
            if found is None:
                if additional is not None:
                    self.check(_deref(self.nodes, additional), item, path)
                elif not (where == "" and key.lower() in ROOT_ARGUMENTS):
                    self.report(
                        path,
                        "AZ001",
                        f"is not a property of {self.type_string}",
                        "remove it or pick an API version that defines it",
                    )
                continue
            name, spec = found
            flags = int(spec.get("flags", 0))
            if flags & READ_ONLY and not flags & REQUIRED:
                self.report(path, "AZ002", f"is read-only in {self.type_string}", "do not set it")
                continue
            self.check(_deref(self.nodes, spec["type"]), item, f"{where}.{name}" if where else name)
        if self.patch:
            return
        present = {key.lower() for key in value}
        for name, spec in properties.items():
            flags = int(spec.get("flags", 0))
            if flags & REQUIRED and not flags & READ_ONLY and name.lower() not in present:
                if where == "" and name.lower() in ROOT_ARGUMENTS:
                    continue
                path = f"{where}.{name}" if where else name
                self.report(path, "AZ004", f"is required by {self.type_string}", "set it")

    def check_discriminated(self, node: Node, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            self.report(where, "AZ005", "must be an object", "write a JSON object")
            return
        discriminator = node["discriminator"]
        chosen = next((v for k, v in value.items() if k.lower() == discriminator.lower()), None)
        elements: Mapping[str, Any] = node.get("elements", {})
        if _is_expression(chosen):
            return
        if not isinstance(chosen, str) or chosen not in elements:
            self.report(
                f"{where}.{discriminator}",
                "AZ003",
                f"{json.dumps(chosen)} is not allowed",
                f"use one of {', '.join(sorted(elements))}",
            )
            return
        element = _deref(self.nodes, elements[chosen])
        merged = {**node.get("baseProperties", {}), **element.get("properties", {})}
        self.check_object(merged, None, value, where)

    def check_union(self, node: Node, value: Any, where: str) -> None:
        members = [_deref(self.nodes, ref) for ref in node["elements"]]
        literals = [m["value"] for m in members if m.get("$type") == "StringLiteralType"]
        if literals:
            self.check_literals(literals, value, where)
            return
        for member in members:
            trial = _Validator(self.nodes, self.type_string, patch=self.patch)
            trial.check(member, value, where)
            if not trial.problems:
                return
        self.report(where, "AZ005", "matches none of the allowed shapes", "compare with the type definition")

    def check_literals(self, literals: list[str], value: Any, where: str) -> None:
        if value in literals:
            return
        spelled = [literal for literal in literals if isinstance(value, str) and literal.lower() == value.lower()]
        fix = f"write {json.dumps(spelled[0])}" if spelled else f"use one of {', '.join(map(json.dumps, literals))}"
        self.report(where, "AZ003", f"{json.dumps(value)} is not an allowed value in {self.type_string}", fix)

    def check_integer(self, node: Node, value: Any, where: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.report(where, "AZ005", f"must be a whole number, not {json.dumps(value)}", "use an integer")
            return
        low, high = node.get("minValue"), node.get("maxValue")
        if (low is not None and value < low) or (high is not None and value > high):
            self.report(where, "AZ005", f"{value} is outside {low}..{high}", f"use a value from {low} to {high}")


def validate_body(catalog: TypeCatalog, type_string: str, body: Any, *, patch: bool = False) -> list[Finding]:
    """Findings for one azapi body (``patch``: an ``azapi_update_resource`` body)."""
    found = catalog.body_type(type_string)
    if found is None:
        return [
            Finding(
                "body",
                "AZ006",
                f"no type definition for {type_string} in {catalog.root}",
                "use a type and API version azapi ships (see azure-types/README.md)",
            )
        ]
    nodes, body_type = found
    validator = _Validator(nodes, type_string, patch=patch)
    validator.check(body_type, body, "")
    return [Finding(f"body.{where}", code, message, fix) for where, code, message, fix in validator.problems]


def check_document(document: Mapping[str, Any], catalog: TypeCatalog) -> Iterator[Finding]:
    """Findings for every azapi body of one synthesized stack, located by construct path."""
    for resource_type in AZAPI_RESOURCE_TYPES:
        for logical_id, resource in document.get("resource", {}).get(resource_type, {}).items():
            path = resource.get("//", {}).get("metadata", {}).get("path", f"{resource_type}.{logical_id}")
            for finding in validate_body(
                catalog,
                str(resource.get("type", "")),
                resource.get("body", {}),
                patch=resource_type == "azapi_update_resource",
            ):
                yield Finding(f"{path} {finding.path}", finding.code, finding.message, finding.fix)


def check_stacks(stacks_dir: Path, catalog: TypeCatalog) -> list[Finding]:
    findings: list[Finding] = []
    for stack_file in sorted(stacks_dir.glob("*/cdk.tf.json")):
        findings += check_document(json.loads(stack_file.read_text(encoding="utf-8")), catalog)
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks-dir", type=Path, default=REPO / "cdktf.out" / "stacks")
    parser.add_argument("--types-dir", type=Path, default=DEFAULT_TYPES_DIR)
    args = parser.parse_args(argv)
    if not args.types_dir.is_dir():
        print(f"error: {args.types_dir}: no azapi type definitions; fix: pass --types-dir", file=sys.stderr)
        return 2
    if not list(args.stacks_dir.glob("*/cdk.tf.json")):
        print(f"error: {args.stacks_dir}: no synthesized stacks; fix: run make synth first", file=sys.stderr)
        return 2
    findings = check_stacks(args.stacks_dir, TypeCatalog(args.types_dir))
    for finding in findings:
        print(f"error: azapi preflight: {finding.line()}", file=sys.stderr)
    if findings:
        return 1
    print(f"azapi preflight: every azapi body in {args.stacks_dir} matches its type definition")
    return 0


if __name__ == "__main__":
    sys.exit(main())
