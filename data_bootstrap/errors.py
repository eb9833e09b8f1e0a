"""The one error type the CLI turns into a single line and a non-zero exit."""

from __future__ import annotations

import sys
from collections.abc import Callable


class BootstrapError(Exception):
    """Something failed that the operator can fix: says what failed and how to fix it."""

    def __init__(self, what: str, fix: str) -> None:
        self.what, self.fix = what, fix
        super().__init__(f"{what}; fix: {fix}")


def exit_code(body: Callable[[], int], *, debug: bool, interrupted: str) -> int:
    """Runs a command body: 130 on Ctrl-C/SIGTERM, 2 with one line on stderr for a BootstrapError
    (``debug`` re-raises it for the traceback), else the body's own code."""
    try:
        return body()
    except KeyboardInterrupt:
        print(f"interrupted: {interrupted}", file=sys.stderr)
        return 130
    except BootstrapError as error:
        if debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
