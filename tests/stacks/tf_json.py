"""Small readers for synthesized cdk.tf.json documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Stack = dict[str, Any]


def resources(stack: Stack, resource_type: str) -> dict[str, dict[str, Any]]:
    return dict(stack.get("resource", {}).get(resource_type, {}))


def all_resources(stack: Stack) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for resource_type, items in stack.get("resource", {}).items():
        for logical_id, body in items.items():
            yield resource_type, logical_id, body


def reference(resource_type: str, logical_id: str, attribute: str = "id") -> str:
    return f"${{{resource_type}.{logical_id}.{attribute}}}"


def only(items: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(items) == 1, f"expected exactly one, found {sorted(items)}"
    return next(iter(items.items()))
