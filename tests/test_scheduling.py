"""The suite's file order (tests/scheduling.py): slowest recorded first, each file's tests together."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

import tests.scheduling as scheduling


@dataclass
class Item:
    nodeid: str
    emulators: bool = False

    def get_closest_marker(self, name: str) -> object | None:
        return object() if name == "emulators" and self.emulators else None


@dataclass
class Cache:
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


@dataclass
class Config:
    cache: Cache


def ordered(items: list[Item], recorded: dict[str, float]) -> list[str]:
    config = Config(Cache({scheduling.CACHE_KEY: recorded}))
    scheduling.pytest_collection_modifyitems(cast(pytest.Config, config), cast(list[pytest.Item], items))
    return [item.nodeid for item in items]


def test_recorded_slow_files_go_first_and_keep_their_tests_in_order() -> None:
    items = [Item("a.py::t2"), Item("a.py::t1"), Item("b.py::t1"), Item("c.py::t3"), Item("c.py::t1")]
    assert ordered(items, {"a.py": 1.0, "b.py": 0.2, "c.py": 7.5}) == [
        "c.py::t3", "c.py::t1", "a.py::t2", "a.py::t1", "b.py::t1",
    ]  # fmt: skip


def test_without_a_record_emulator_files_count_as_slow() -> None:
    items = [Item("fast.py::t"), Item("new.py::t"), Item("emu.py::t1"), Item("emu.py::t2", emulators=True)]
    assert ordered(items, {})[:2] == ["emu.py::t1", "emu.py::t2"]
    # a record wins over the guess; a new file among recorded ones counts by its marker
    assert ordered(items, {"emu.py": 0.5, "fast.py": 3.0}) == ["fast.py::t", "emu.py::t1", "emu.py::t2", "new.py::t"]


def test_the_controller_records_each_files_seconds_and_keeps_older_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduling, "_seconds", defaultdict(float))
    for nodeid, seconds in (("a.py::t1", 1.25), ("a.py::t2", 0.5), ("b.py::t", 2.0)):
        scheduling.pytest_runtest_logreport(_report(nodeid, seconds))
    cache = Cache({scheduling.CACHE_KEY: {"a.py": 9.0, "gone.py": 4.0}})
    session = cast(pytest.Session, type("Session", (), {"config": Config(cache)})())
    scheduling.pytest_sessionfinish(session)
    assert cache.values[scheduling.CACHE_KEY] == {"a.py": 1.75, "b.py": 2.0, "gone.py": 4.0}
    # an xdist worker leaves the writing to the controller, which saw every worker's reports
    worker_cache = Cache()
    worker = Config(worker_cache)
    worker.workerinput = {"workerid": "gw0"}  # type: ignore[attr-defined]
    scheduling.pytest_sessionfinish(cast(pytest.Session, type("Session", (), {"config": worker})()))
    assert worker_cache.values == {}


def _report(nodeid: str, seconds: float) -> pytest.TestReport:
    return cast(pytest.TestReport, type("Report", (), {"nodeid": nodeid, "duration": seconds})())
