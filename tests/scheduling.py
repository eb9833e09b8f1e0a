"""The slowest test files first, so pytest-xdist's workers finish together.

`make test` hands whole files to its workers (``--dist loadfile``), each file to whichever worker
is free next. pytest-xdist queues them by test count (``--loadscope-reorder``, its default), which
puts the emulator-backed files (a few tests of several seconds each) last: on 2 workers one of
them then ran 22 s longer than the other. Longest first is the classic fix for list scheduling,
so `make test` turns xdist's reorder off and this plugin orders the files by the time each took
in the previous run (kept in pytest's cache folder, ``suite/file_seconds``). A file with no
record yet (a fresh clone, a new file) counts as slow if it uses the emulators, else as fast.
Within a file the order stays pytest-randomly's shuffle; which file runs beside which still varies.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

CACHE_KEY = "suite/file_seconds"
# A file without a record that starts the emulators (mark `emulators`): about what those take.
UNRECORDED_EMULATOR_FILE_S = 10.0


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _recorded(config: pytest.Config) -> dict[str, float]:
    cache = getattr(config, "cache", None)
    seconds = cache.get(CACHE_KEY, {}) if cache is not None else {}
    return {str(name): float(value) for name, value in seconds.items()} if isinstance(seconds, dict) else {}


def expected_seconds(items: list[pytest.Item], recorded: dict[str, float]) -> dict[str, float]:
    by_file: dict[str, list[pytest.Item]] = defaultdict(list)
    for item in items:
        by_file[_file(item.nodeid)].append(item)
    return {
        name: recorded.get(name)
        or (UNRECORDED_EMULATOR_FILE_S if any(i.get_closest_marker("emulators") for i in file_items) else 0.0)
        for name, file_items in by_file.items()
    }


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cost = expected_seconds(items, _recorded(config))
    items.sort(key=lambda item: -cost[_file(item.nodeid)])  # stable: each file's tests stay together


_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Under xdist the controller receives every worker's reports, so this sums the whole run.
    _seconds[_file(report.nodeid)] += report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    cache = getattr(config, "cache", None)
    if cache is None or hasattr(config, "workerinput") or not _seconds:  # workers: the controller writes
        return
    cache.set(CACHE_KEY, {**_recorded(config), **{name: round(s, 2) for name, s in _seconds.items()}})
