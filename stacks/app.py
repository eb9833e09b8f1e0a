"""Builds the CDKTF app: two stacks per environment."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import App

from stacks.config import EnvironmentConfig
from stacks.network_stack import NetworkStack
from stacks.platform_stack import MlPlatformStack


def stack_names(environment: str) -> tuple[str, str]:
    """Stack names in deployment order."""
    return (f"network-{environment}", f"mlplatform-{environment}")


def build_app(*, configs: Sequence[EnvironmentConfig], outdir: str | None = None) -> App:
    """Declare every stack of the given environments (nothing is written yet)."""
    app = App(outdir=outdir) if outdir else App()
    for config in configs:
        network_name, platform_name = stack_names(config.name)
        network = NetworkStack(app, network_name, config=config)
        MlPlatformStack(app, platform_name, config=config, network=network)
    return app
