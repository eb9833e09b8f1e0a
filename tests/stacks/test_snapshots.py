"""Snapshots of every synthesized stack of every environment.

A changed logical ID, a removed setting or a new resource shows up here as a
snapshot diff for review (`pytest --snapshot-update` accepts it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import ALL_STACKS


@pytest.mark.parametrize("stack_name", ALL_STACKS)
def test_stack_matches_snapshot(stack_name: str, stacks: dict[str, Any], snapshot: SnapshotAssertion) -> None:
    assert stacks[stack_name] == snapshot(extension_class=JSONSnapshotExtension)


def test_synthesized_json_is_machine_independent(synth_dir: Path) -> None:
    text = "".join(path.read_text() for path in (synth_dir / "stacks").glob("*/cdk.tf.json"))
    for machine_specific in (str(synth_dir), str(Path.home()), str(Path.cwd())):
        assert machine_specific not in text
    manifest = json.loads((synth_dir / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == sorted(ALL_STACKS)


def test_the_unload_variant_adds_exactly_the_reviewed_resources(
    stacks: dict[str, Any], unload_stacks: dict[str, Any], snapshot: SnapshotAssertion
) -> None:
    """prod with the unload engine (tests/conftest.py) against the committed prod: new or changed resources only."""
    delta: dict[str, dict[str, dict[str, Any]]] = {}
    for name, stack in unload_stacks.items():
        committed = stacks[name].get("resource", {})
        for resource_type, items in stack.get("resource", {}).items():
            for logical_id, body in items.items():
                if committed.get(resource_type, {}).get(logical_id) != body:
                    delta.setdefault(name, {}).setdefault(f"{resource_type}.{logical_id}", body)
        removed = {
            f"{resource_type}.{logical_id}"
            for resource_type, items in committed.items()
            for logical_id in items
            if logical_id not in stack.get("resource", {}).get(resource_type, {})
        }
        assert not removed, f"{name}: the unload engine removes {sorted(removed)}"
    assert delta == snapshot(extension_class=JSONSnapshotExtension)
