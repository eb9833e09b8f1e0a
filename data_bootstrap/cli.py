"""Register the Snowflake connection, the raw datastore and the versioned raw data asset in Azure ML."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, cast

from azure.core.exceptions import ClientAuthenticationError

from data_bootstrap.azure.errors import AZURE_LOGIN_FIX
from data_bootstrap.errors import exit_code
from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.settings import REPO_ROOT, StackOutputs, load_settings

if TYPE_CHECKING:
    from data_bootstrap.azure.runtime import Runtime
    from data_bootstrap.commands import Step


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m data_bootstrap", description=__doc__)
    top.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = top.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("plan", "print what apply would create or change; changes nothing"),
        ("apply", "register the connection and datastore, import and register the data asset"),
        ("verify", "load the current data asset version, check it and write a data profile"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
        command.add_argument("--env", required=True, help="environment name, e.g. dev")
        command.add_argument("--outputs", required=True, type=Path, help="outputs JSON of the mlplatform-<env> stack")
        command.add_argument("--config", type=Path, help="environment config (default: config/<env>.toml)")
        command.add_argument("--step", choices=("connection", "datastore", "import", "all"), default="all")
        command.add_argument("--profile-dir", type=Path, default=Path("profile"), help="verify: data profile folder")
    return top


RuntimeFactory = Callable[[StackOutputs], "Runtime"]


def _default_runtime(outputs: StackOutputs) -> Runtime:
    from data_bootstrap.azure.runtime import Runtime

    return Runtime(outputs=outputs)


def run(args: argparse.Namespace, *, runtime_factory: RuntimeFactory, debug: bool = False) -> int:
    config = args.config or REPO_ROOT / "config" / f"{args.env}.toml"
    settings = load_settings(env=args.env, outputs_path=args.outputs, config_path=config)
    # The Azure ML SDK takes ~2 s to import: config and outputs mistakes are reported before it loads.
    from data_bootstrap.commands import apply, plan, verify

    _quiet_azure_loggers(debug=debug)  # again: the SDK modules just imported created their loggers
    runtime = runtime_factory(settings.outputs)
    step = cast("Step", args.step)
    if args.command == "plan":
        for change in plan(settings, runtime, step=step):
            print(change.render())
        return 0
    if args.command == "apply":
        apply(settings, runtime, step=step, out=sys.stdout, progress=ProgressPrinter())
        return 0
    return 0 if verify(settings, runtime, profile_dir=args.profile_dir, out=sys.stdout) else 1


def _quiet_azure_loggers(*, debug: bool) -> None:
    """The Azure SDKs log every expected 404 at ERROR, some with their own handlers and levels;
    the CLI reports failures itself, in one line."""
    level = logging.DEBUG if debug else logging.CRITICAL
    # Every logger of the azure* families (azure, azureml, ...) ends at ``level``. Those without a
    # level of their own inherit it from their family's top logger, so only the tops and the others
    # are set: each setLevel empties every logger's level cache (logging.Logger.setLevel ->
    # Manager._clear_cache), and setting all ~500 of them was O(loggers^2), 6 CPU s over the suite.
    names = [name for name in logging.root.manager.loggerDict if name.startswith("azure")]
    tops = sorted({"azure", *(name.split(".", 1)[0] for name in names)})
    explicit = [
        logger
        for name in names
        if isinstance(logger := logging.root.manager.loggerDict[name], logging.Logger)
        and logger.level != logging.NOTSET
    ]
    for logger in [*map(logging.getLogger, tops), *explicit]:
        if logger.level != level:
            logger.setLevel(level)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: the spill folder and this run's upload folder are removed


def main(argv: Sequence[str] | None = None, *, runtime_factory: RuntimeFactory | None = None) -> int:
    """Exit code: 0 ok, 1 verify found problems, 2 something failed (one line on stderr), 130 interrupted."""
    args = parser().parse_args(argv)
    _quiet_azure_loggers(debug=args.debug)
    # signal handlers belong to the main thread (tests run applies side by side in threads)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm) if main_thread else None
    try:
        return exit_code(
            lambda: run(args, runtime_factory=runtime_factory or _default_runtime, debug=args.debug),
            debug=args.debug,
            interrupted="cleaned up; this run registered nothing it had not finished",
        )
    except ClientAuthenticationError as error:  # raised outside a wrapped call, e.g. while building a client
        if args.debug:
            raise
        print(
            f"error: Azure authentication failed ({str(error).splitlines()[0]}); fix: {AZURE_LOGIN_FIX}",
            file=sys.stderr,
        )
        return 2
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
