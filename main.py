#!/usr/bin/env python3
"""CDKTF entry point (`cdktf synth`, `make synth`, `python main.py`).

This is the only module of the app that reads environment variables or files:
it turns `config/<env>.toml` into frozen config objects, then hands them to
the stacks. Environment selection: PLATFORM_ENV=dev (default), prod,
dev,prod or all; PLATFORM_CONFIG_DIR points elsewhere than config/.
CDKTF_BINDING_IMPORT=stock disables the fast binding
import (see stacks/binding_loader.py). The output directory comes from the cdktf CLI (CDKTF_OUTDIR)
or defaults to cdktf.out/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from stacks.config import ConfigError, EnvironmentConfig, parse_environment_toml, validate_environments

REPO_CONFIG_DIR = Path(__file__).resolve().parent / "config"
DEFAULT_ENVIRONMENT = "dev"


def available_environments(config_dir: Path) -> list[str]:
    return sorted(path.stem for path in config_dir.glob("*.toml"))


def load_configs(selection: str, config_dir: Path) -> list[EnvironmentConfig]:
    """Parse and validate every selected environment before anything is declared."""
    known = available_environments(config_dir)
    wanted = known if selection.strip() == "all" else [name.strip() for name in selection.split(",") if name.strip()]
    if not wanted:
        raise ConfigError(
            "environment selection", "PLATFORM_ENV", "is empty", f"set it to one of {', '.join(known)} or all"
        )
    configs = []
    for name in wanted:
        path = config_dir / f"{name}.toml"
        if name not in known:
            raise ConfigError(
                "environment selection",
                "PLATFORM_ENV",
                f"no config file {path.name} for environment {name!r}",
                f"use one of {', '.join(known)} or add config/{name}.toml",
            )
        display = f"{config_dir.name}/{path.name}"
        configs.append(parse_environment_toml(path.read_text(encoding="utf-8"), source=display, expected_name=name))
    validate_environments(configs, sources=[f"{config_dir.name}/{name}.toml" for name in wanted])
    return configs


def main() -> int:
    try:
        configs = load_configs(
            os.environ.get("PLATFORM_ENV", DEFAULT_ENVIRONMENT),
            Path(os.environ.get("PLATFORM_CONFIG_DIR", REPO_CONFIG_DIR)),
        )
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from stacks.binding_loader import load_binding

    # CDKTF_BINDING_IMPORT=stock runs the binding's own __init__ (for the benchmark
    # and the equivalence test); the default loads only the submodules used.
    load_binding(mode="stock" if os.environ.get("CDKTF_BINDING_IMPORT") == "stock" else "fast")
    from cdktf import TerraformStack

    from stacks.app import build_app
    from stacks.policy import policy_lines

    try:
        app = build_app(configs=configs)
        app.synth()
    except RuntimeError as error:  # a policy violation crosses jsii as a RuntimeError
        lines = policy_lines(error)
        if lines is None:
            raise
        print("\n".join(f"error: {line}" for line in lines), file=sys.stderr)
        return 3
    stacks = [child.node.id for child in app.node.children if isinstance(child, TerraformStack)]
    print(f"synthesized {', '.join(stacks)} into {os.path.relpath(app.outdir)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
