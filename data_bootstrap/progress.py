"""Progress (rows and bytes) on stderr: a live bar on a terminal, one summary line per phase otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class Reporter(Protocol):
    def advance(self, *, rows: int = 0, nbytes: int = 0) -> None: ...


class _Phase:
    def __init__(self, progress: Progress, label: str) -> None:
        self.rows = 0
        self.nbytes = 0
        self._progress = progress
        self._task = progress.add_task(label, total=None, rows=0, mib=0.0)

    def advance(self, *, rows: int = 0, nbytes: int = 0) -> None:
        self.rows += rows
        self.nbytes += nbytes
        self._progress.update(self._task, rows=self.rows, mib=self.nbytes / 2**20)


class ProgressPrinter:
    def __init__(self, *, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, emoji=False)

    @contextmanager
    def phase(self, label: str) -> Iterator[Reporter]:
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}: {task.fields[rows]:,} rows, {task.fields[mib]:.1f} MiB"),
        )
        with Progress(*columns, TimeElapsedColumn(), console=self.console, disable=not self.console.is_terminal) as bar:
            phase = _Phase(bar, label)
            yield phase
        if not self.console.is_terminal:
            self.console.print(
                f"{label}: {phase.rows:,} rows, {phase.nbytes:,} bytes",
                highlight=False,
                markup=False,
                emoji=False,
                soft_wrap=True,
            )
