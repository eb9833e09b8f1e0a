"""Builds the CDKTF app: two stacks per environment."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import App

from stacks.config import EnvironmentConfig
from stacks.naming import ML_PLATFORM, NETWORK, stack_name
from stacks.network_stack import NetworkStack
from stacks.platform_stack import MlPlatformStack


def build_app(*, configs: Sequence[EnvironmentConfig], outdir: str | None = None) -> App:
    """Declare every stack of the given environments (nothing is written yet)."""
    app = App(outdir=outdir) if outdir else App()
    for config in configs:
        network = NetworkStack(app, stack_name(NETWORK, config.name), config=config)
        MlPlatformStack(app, stack_name(ML_PLATFORM, config.name), config=config, network=network)
    return app
