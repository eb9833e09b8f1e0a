"""The Sensor's filters, executed on GitHub push payloads the way Argo Events evaluates them.

Data filters: a port of argo-events ``pkg/sensors/dependencies/filter.go`` ``filterData`` for the
types and comparators used here (strings are unanchored Go regular expressions; ``and`` logic).
Script filter: the Lua source itself, run by a real Lua interpreter (lupa), with the payload
converted as ``pkg/sensors/dependencies/transform.go`` ``mapToTable`` does (nulls dropped,
arrays 1-based). Both must pass for a run to start (``filtersLogicalOperator`` defaults to and).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from lupa import LuaRuntime

from tests.pipelines.rendered import rendered_documents

EVENTS = rendered_documents("40-events.yaml")
SENSOR = next(doc for doc in EVENTS if doc["kind"] == "Sensor")
FILTERS = SENSOR["spec"]["dependencies"][0]["filters"]
ZERO = "0" * 40
HEAD = "a" * 40


def _lookup(payload: dict[str, Any], path: str) -> Any:
    node: Any = payload
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def _data_filter_passes(item: dict[str, Any], payload: dict[str, Any]) -> bool:
    try:
        value = _lookup(payload, item["path"])
    except KeyError:
        return False  # filterData: "path does not exist" fails the and-combination
    comparator = item.get("comparator", "=")
    if item["type"] == "bool":
        return any((allowed.lower() == "true") == bool(value) for allowed in item["value"])
    if item["type"] == "string":
        matched = [re.search(allowed, str(value)) is not None for allowed in item["value"]]
        return any(matched) if comparator in ("=", "") else any(not m for m in matched)
    raise AssertionError(f"unported type {item['type']}")


def _to_lua(lua: LuaRuntime, value: Any) -> Any:
    if isinstance(value, dict):
        table = lua.table()
        for key, item in value.items():
            if item is not None:
                table[key] = _to_lua(lua, item)
        return table
    if isinstance(value, list):
        table = lua.table()
        for index, item in enumerate((i for i in value if i is not None), start=1):
            table[index] = _to_lua(lua, item)
        return table
    return value


def _script_passes(payload: dict[str, Any]) -> bool:
    lua = LuaRuntime(unpack_returned_tuples=True)
    lua.globals()["event"] = _to_lua(lua, payload)
    result = lua.execute(FILTERS["script"])
    assert isinstance(result, bool), "the script must return a boolean"
    return result


def triggers(payload: dict[str, Any]) -> bool:
    return all(_data_filter_passes(item, payload) for item in FILTERS["data"]) and _script_passes(payload)


def _push(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ref": "refs/heads/main",
        "before": "b" * 40,
        "after": HEAD,
        "created": False,
        "deleted": False,
        "commits": [{"id": HEAD, "added": [], "removed": [], "modified": ["stacks/network.py"]}],
    }
    body.update(overrides)
    return {"header": {"X-Github-Event": ["push"]}, "body": body}


def test_a_push_touching_infrastructure_triggers() -> None:
    assert triggers(_push())


def test_deleting_the_branch_never_triggers() -> None:
    # GitHub's push event for a deleted branch: deleted true, after all zeros, no commits, head_commit null.
    deletion = _push(deleted=True, after=ZERO, commits=[], head_commit=None)
    assert not triggers(deletion)
    # Even with commits listed (a forged or future payload), the data filters alone refuse it.
    assert not triggers(_push(deleted=True, after=ZERO))
    assert not triggers(_push(deleted=False, after=ZERO)), "after = 000... is a deletion too"
    assert not triggers(_push(deleted=True))


@pytest.mark.parametrize("ref", ["refs/heads/main-old", "refs/heads/feature/main", "refs/tags/main", "refs/heads/mai"])
def test_other_refs_never_trigger(ref: str) -> None:
    assert not triggers(_push(ref=ref))


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ({"modified": ["docs/pipelines.md"]}, False),
        ({"added": ["config/stage.toml"]}, True),
        ({"removed": ["main.py"]}, True),
        ({"modified": ["README.md", "Pipfile.lock"]}, True),
        ({"modified": ["mystacks/x.py"]}, False),
    ],
)
def test_only_infrastructure_paths_trigger(paths: dict[str, list[str]], expected: bool) -> None:
    commit = {"id": HEAD, "added": [], "removed": [], "modified": [], **paths}
    assert triggers(_push(commits=[commit])) is expected


def test_a_missing_deleted_field_does_not_trigger() -> None:
    payload = _push()
    del payload["body"]["deleted"]
    assert not triggers(payload), "filterData fails a path that does not exist"
