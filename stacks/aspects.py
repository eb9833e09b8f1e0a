"""Cross-cutting rules applied to every construct at synth time (CDKTF Aspects)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from cdktf import IAspect, TerraformResource
from constructs import IConstruct


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
        if not is_taggable(node):
            return
        own = node.tags_input or {}  # type: ignore[attr-defined]
        node.tags = {**self._tags, **own}  # type: ignore[attr-defined]
