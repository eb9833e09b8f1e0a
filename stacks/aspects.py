"""Cross-cutting rules applied to every construct at synth time (CDKTF Aspects)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from constructs import IConstruct

from stacks.framework import IAspect, TerraformResource, TerraformStack


def is_taggable(node: Any) -> bool:
    """Taggable azurerm resources expose a ``tags`` argument (``tags_input``)."""
    return isinstance(node, TerraformResource) and hasattr(node, "tags_input")


@jsii.implements(IAspect)
class TagsAspect:
    """Gives every taggable resource the environment's required tags.

    Tags a construct sets itself win over the common ones, so a construct can
    add detail but a resource can never end up without the required tags.
    """

    def __init__(self, *, tags: Mapping[str, str]) -> None:
        self._tags = dict(tags)

    def visit(self, node: IConstruct) -> None:
        # Applied when the stack itself is visited (aspects run top-down), so the
        # tags are in place before the policy aspect checks the same stack.
        if not isinstance(node, TerraformStack):
            return
        for child in node.node.find_all():
            if is_taggable(child):
                own = child.tags_input or {}  # type: ignore[attr-defined]
                child.tags = {**self._tags, **own}  # type: ignore[attr-defined]
