"""The one error type the CLI turns into a single line and a non-zero exit."""

from __future__ import annotations


class BootstrapError(Exception):
    """Something failed that the operator can fix: says what failed and how to fix it."""

    def __init__(self, what: str, fix: str) -> None:
        self.what, self.fix = what, fix
        super().__init__(f"{what}; fix: {fix}")
