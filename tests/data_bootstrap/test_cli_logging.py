"""The CLI silences the Azure SDKs' own logging (it reports failures itself, in one line), cheaply."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from data_bootstrap.cli import _quiet_azure_loggers


@pytest.fixture
def azure_loggers() -> Iterator[dict[str, logging.Logger]]:
    """A fresh family under azure.*: one with its own level and handler, as some SDK modules set up,
    and children that inherit. Every azure logger's level is restored afterwards."""
    before = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and name.startswith("azure")
    }
    base = f"azure.quiet{uuid.uuid4().hex[:8]}"
    own = logging.getLogger(f"{base}.sdk")
    own.setLevel(logging.INFO)
    own.addHandler(logging.NullHandler())
    family = {"own": own, "child": logging.getLogger(f"{base}.sdk.child"), "sibling": logging.getLogger(f"{base}.x")}
    # another azure* family, as azureml-dataprep's: a top logger of its own, children under it
    other = f"azureml{uuid.uuid4().hex[:8]}"
    family["other-own"] = logging.getLogger(f"{other}.api.logger")
    family["other-own"].setLevel(logging.DEBUG)
    family["other-child"] = logging.getLogger(f"{other}.api.child")
    yield family
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.startswith("azure"):
            logger.setLevel(before.get(name, logging.NOTSET))


@pytest.mark.parametrize(("debug", "level"), [(False, logging.CRITICAL), (True, logging.DEBUG)])
def test_every_azure_logger_ends_at_the_cli_level(
    azure_loggers: dict[str, logging.Logger], debug: bool, level: int
) -> None:
    _quiet_azure_loggers(debug=debug)
    assert {name: logger.getEffectiveLevel() for name, logger in azure_loggers.items()} == dict.fromkeys(
        azure_loggers, level
    )
    assert logging.getLogger("azure").level == level
    later = logging.getLogger(f"{azure_loggers['own'].name}.created.later")  # an SDK module imported after
    assert later.getEffectiveLevel() == level


def test_only_loggers_with_a_level_of_their_own_are_set(
    azure_loggers: dict[str, logging.Logger], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each setLevel empties the level cache of every logger in the process: setting all ~500 azure
    loggers on each CLI run cost 6 CPU s over the suite. Set the inheriting ones through their family's top."""
    for index in range(200):
        logging.getLogger(f"{azure_loggers['sibling'].name}.inheriting{index}")
    names = [name for name in logging.root.manager.loggerDict if name.startswith("azure")]
    explicit = {
        name
        for name in names
        if isinstance(logger := logging.root.manager.loggerDict[name], logging.Logger)
        and logger.level != logging.NOTSET
    }
    tops = {name.split(".", 1)[0] for name in names}
    calls: list[str] = []
    original = logging.Logger.setLevel

    def counting(self: logging.Logger, level: int | str) -> None:
        calls.append(self.name)
        original(self, level)

    monkeypatch.setattr(logging.Logger, "setLevel", counting)
    _quiet_azure_loggers(debug=False)
    assert azure_loggers["own"].name in calls
    assert set(calls) <= explicit | tops  # each family's top logger and the ones with their own level
    calls.clear()
    _quiet_azure_loggers(debug=False)  # the CLI calls it again after importing the SDKs
    assert calls == []
