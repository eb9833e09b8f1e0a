"""Stack names: the contract between the CDKTF app, the pipelines and data_bootstrap.

Cheap to import (no cdktf), so the Argo renderer and the bootstrap CLI use it too.
"""

from __future__ import annotations

NETWORK = "network"
ML_PLATFORM = "mlplatform"
# Deployment order: the ML platform stack reads the network stack's outputs through remote state.
STACK_KINDS = (NETWORK, ML_PLATFORM)


def stack_name(kind: str, environment: str) -> str:
    """``<kind>-<environment>``; ``environment`` may also be an Argo parameter expression."""
    return f"{kind}-{environment}"
