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


def _zone_name(stack: Stack, expression: str) -> str:
    """A link's ``private_dns_zone_name``: a literal, or a reference to a zone or zone lookup."""
    kind, _, logical_id = expression.removeprefix("${").removesuffix(".name}").rpartition(".")
    if kind == "azurerm_private_dns_zone":
        return str(resources(stack, kind)[logical_id]["name"])
    if kind == "data.azurerm_private_dns_zone":
        return str(stack["data"]["azurerm_private_dns_zone"][logical_id]["name"])
    return expression


def zone_links(stacks: dict[str, Stack], environment: str) -> list[tuple[str, str]]:
    """(zone name, linked VNet) of every private DNS zone link of one environment, across its stacks.

    Azure refuses a VNet linked to two zones of one name (Private Link FAQ,
    https://learn.microsoft.com/azure/private-link/private-link-faq), so a repeated pair is a defect.
    A VNet declared in the same stack is named by the stack and its reference.
    """
    links = []
    for name, stack in sorted(stacks.items()):
        if not name.endswith(f"-{environment}"):
            continue
        for body in resources(stack, "azurerm_private_dns_zone_virtual_network_link").values():
            vnet = str(body["virtual_network_id"])
            links.append(
                (
                    _zone_name(stack, str(body["private_dns_zone_name"])),
                    f"{name}:{vnet}" if vnet.startswith("${") else vnet,
                )
            )
    return links


def repeated_links(links: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted({link for link in links if links.count(link) > 1})
