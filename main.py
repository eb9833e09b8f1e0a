#!/usr/bin/env python3
"""CDKTF entry point (`cdktf synth`, `make synth`, `python main.py`).

This is the only module of the app that reads environment variables or files:
it turns `config/<env>.toml` into frozen config objects, then hands them to
the stacks. Environment selection: PLATFORM_ENV=dev (default), prod,
dev,prod or all; PLATFORM_CONFIG_DIR points elsewhere than config/.
PLATFORM_LANE=cdktf (default) or cdktn picks the CDK lane: CDKTF 0.21 or CDK Terrain 0.24
with their azurerm bindings (stacks/framework.py, docs/cdktn-lane.md).
PLATFORM_ACCESS_STATE=local gives the access stacks a local backend for their first apply
(docs/access.md, "Order and bootstrap"); unset or remote is the configured backend.
CDKTF_BINDING_IMPORT=stock disables the fast binding load on both the Python
and the Node side (see stacks/binding_loader.py). The output directory comes
from the cdktf CLI (CDKTF_OUTDIR) or defaults to cdktf.out/; stack folders an
earlier synth left there are removed, so it holds exactly the stacks produced.
Before the jsii kernel starts, a project-local Node (.tools/node, installed by
the Makefile where the machine's Node is older than 22) is put first on PATH,
so `python main.py` and `cdktf synth` run on a supported Node too.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from stacks.binding_loader import LOAD_MODES, LoadMode, jsii_node_environment
from stacks.config import ConfigError, EnvironmentConfig, parse_environment_toml, raise_all, validate_environments
from stacks.framework import DEFAULT_LANE, LANES, Lane, select_lane

REPO = Path(__file__).resolve().parent
REPO_CONFIG_DIR = REPO / "config"
DEFAULT_ENVIRONMENT = "dev"
SELECTION = "environment selection"


def shown_path(path: Path) -> str:
    """A path as a user can open it: relative to the working directory when below it, else absolute."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


def available_environments(config_dir: Path) -> list[str]:
    return sorted(path.stem for path in config_dir.glob("*.toml"))


def _check_config_dir(config_dir: Path) -> list[str]:
    where = shown_path(config_dir)
    if not config_dir.is_dir():
        problem = "is not a folder" if config_dir.exists() else "does not exist"
        raise ConfigError(
            SELECTION, "PLATFORM_CONFIG_DIR", f"{where} {problem}", "point it at the folder holding <env>.toml files"
        )
    known = available_environments(config_dir)
    if not known:
        raise ConfigError(
            SELECTION, "PLATFORM_CONFIG_DIR", f"{where} has no <env>.toml files", "add one, e.g. copy config/dev.toml"
        )
    return known


def _selected(selection: str, known: list[str], config_dir: Path) -> list[str]:
    if selection.strip() == "all":
        return known
    wanted = [name.strip() for name in selection.split(",") if name.strip()]
    if not wanted:
        raise ConfigError(SELECTION, "PLATFORM_ENV", "is empty", f"set it to one of {', '.join(known)} or all")
    repeated = sorted({name for name in wanted if wanted.count(name) > 1})
    if repeated:
        raise ConfigError(
            SELECTION, "PLATFORM_ENV", f"{selection!r} names {', '.join(repeated)} more than once", "name each once"
        )
    for name in wanted:
        if name not in known:
            hint = f"environment names are lowercase: use {name.lower()!r}" if name.lower() in known else ""
            raise ConfigError(
                SELECTION,
                "PLATFORM_ENV",
                f"no config file {name}.toml in {shown_path(config_dir)} for environment {name!r}",
                hint or f"use one of {', '.join(known)} or all, or add {shown_path(config_dir / f'{name}.toml')}",
            )
    return wanted


def load_configs(selection: str, config_dir: Path) -> list[EnvironmentConfig]:
    """Parse and validate every selected environment before anything is declared (all mistakes at once)."""
    wanted = _selected(selection, _check_config_dir(config_dir), config_dir)
    configs: list[EnvironmentConfig] = []
    errors: list[ConfigError] = []
    for name in wanted:
        path = config_dir / f"{name}.toml"
        try:
            configs.append(
                parse_environment_toml(path.read_text(encoding="utf-8"), source=shown_path(path), expected_name=name)
            )
        except ConfigError as error:
            errors.append(error)
    raise_all(errors)
    validate_environments(configs, sources=[shown_path(config_dir / f"{config.name}.toml") for config in configs])
    return configs


def binding_mode(value: str | None) -> LoadMode:
    """CDKTF_BINDING_IMPORT: fast (default) or stock."""
    for mode in LOAD_MODES:
        if (value or "fast") == mode:
            return mode
    raise ConfigError("environment", "CDKTF_BINDING_IMPORT", f"{value!r} is not fast or stock", "unset it or use stock")


def lane_setting(value: str | None) -> Lane:
    """PLATFORM_LANE: which framework and bindings synthesize the stacks (cdktf by default)."""
    name = (value or DEFAULT_LANE).strip()
    for known, lane in LANES.items():
        if name == known:
            missing = [
                package
                for package in (lane.framework, *lane.bindings.values())
                if importlib.util.find_spec(package) is None
            ]
            if missing:
                raise ConfigError(
                    "environment",
                    "PLATFORM_LANE",
                    f"lane {name} needs {', '.join(missing)}, which is not installed",
                    "run make install (Pipfile.lock locks both lanes)",
                )
            return lane
    raise ConfigError(
        "environment", "PLATFORM_LANE", f"{value!r} is not a lane", f"use one of {', '.join(LANES)} or unset it"
    )


def access_local_state(value: str | None) -> bool:
    """PLATFORM_ACCESS_STATE: local for the access stacks' first apply, remote (default) after it."""
    if value in (None, "", "remote"):
        return False
    if value == "local":
        return True
    raise ConfigError(
        "environment",
        "PLATFORM_ACCESS_STATE",
        f"{value!r} is not local or remote",
        "unset it, or set local only for the first apply of access-<env>",
    )


def check_outdir(value: str | None) -> None:
    """CDKTF_OUTDIR (set by the cdktf CLI or the caller): its parent folder must exist."""
    if value and not Path(value).resolve().parent.is_dir():
        raise ConfigError(
            "environment",
            "CDKTF_OUTDIR",
            f"the parent folder of {value} does not exist",
            "create it first or choose an existing location",
        )


def remove_stale_stacks(outdir: Path, produced: list[str]) -> list[str]:
    """Delete stack folders an earlier synth left in <outdir>/stacks, so it holds exactly this synth's stacks."""
    stale = [
        folder
        for folder in sorted((outdir / "stacks").glob("*"))
        if folder.name not in produced and (folder / "cdk.tf.json").is_file()
    ]
    for folder in stale:
        shutil.rmtree(folder)
    return [folder.name for folder in stale]


def main() -> int:
    try:
        mode = binding_mode(os.environ.get("CDKTF_BINDING_IMPORT"))
        lane = lane_setting(os.environ.get("PLATFORM_LANE"))
        check_outdir(os.environ.get("CDKTF_OUTDIR"))
        local_access = access_local_state(os.environ.get("PLATFORM_ACCESS_STATE"))
        configs = load_configs(
            os.environ.get("PLATFORM_ENV", DEFAULT_ENVIRONMENT),
            Path(os.environ.get("PLATFORM_CONFIG_DIR", REPO_CONFIG_DIR)),
        )
    except ConfigError as error:
        print("\n".join(f"error: {line}" for line in error.errors), file=sys.stderr)
        return 2
    # The jsii kernel (a Node process started on the first binding import) inherits
    # this: the supported project-local Node when installed, and the lazy-load hook.
    select_lane(lane.name)
    os.environ.update(jsii_node_environment(os.environ, mode=mode, npm_packages=lane.lazy_npm_packages))
    from stacks.binding_loader import load_bindings

    load_bindings(mode=mode, packages=lane.bare_packages)
    from stacks.app import build_app
    from stacks.framework import TerraformStack
    from stacks.policy import policy_lines

    try:
        app = build_app(configs=configs, access_local_state=local_access)
        app.synth()
    except RuntimeError as error:  # a policy violation crosses jsii as a RuntimeError
        lines = policy_lines(error)
        if lines is None:
            raise
        print("\n".join(f"error: {line}" for line in lines), file=sys.stderr)
        return 3
    stacks = [child.node.id for child in app.node.children if isinstance(child, TerraformStack)]
    removed = remove_stale_stacks(Path(app.outdir), stacks)
    note = f" (removed stale {', '.join(removed)})" if removed else ""
    print(f"synthesized {', '.join(stacks)} ({lane.name} lane) into {os.path.relpath(app.outdir)}/{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
