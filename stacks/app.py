"""Builds the CDKTF app: three stacks per environment, in ``STACK_KINDS`` order."""

from __future__ import annotations

from collections.abc import Sequence

from stacks.access_stack import AccessStack
from stacks.config import EnvironmentConfig
from stacks.framework import App
from stacks.naming import ACCESS, ML_PLATFORM, NETWORK, stack_name
from stacks.network_stack import NetworkStack
from stacks.platform_stack import MlPlatformStack


def build_app(
    *, configs: Sequence[EnvironmentConfig], outdir: str | None = None, access_local_state: bool = False
) -> App:
    """Declare every stack of the given environments (nothing is written yet).

    ``access_local_state`` gives the access stacks a local backend: their first apply, which
    creates the state account (docs/access.md, "Order and bootstrap").
    """
    app = App(outdir=outdir) if outdir else App()
    for config in configs:
        access = AccessStack(app, stack_name(ACCESS, config.name), config=config, local_state=access_local_state)
        network = NetworkStack(app, stack_name(NETWORK, config.name), config=config)
        platform = MlPlatformStack(app, stack_name(ML_PLATFORM, config.name), config=config, network=network)
        # Looked up by name, not referenced: say the order explicitly (cdktf deploys dependencies
        # first and refuses a stack whose dependencies are neither deployed in the run nor listed).
        network.add_dependency(access)
        platform.add_dependency(access)
    return app
