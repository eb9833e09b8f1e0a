"""In-process CDKTF apps for policy tests (one jsii runtime for the session)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pytest


class AppBuilder(Protocol):
    def __call__(
        self, declare: Callable[[Any], None], *, with_policy: bool = True, storage_data_plane: bool = False
    ) -> Path: ...


@pytest.fixture(scope="session")
def binding() -> None:
    from stacks.binding_loader import load_binding

    load_binding()


@pytest.fixture
def synth_test_stack(binding: None, tmp_path: Path) -> AppBuilder:
    """Synthesize a one-stack app whose content `declare(stack)` adds; policy aspect on."""

    def build(declare: Callable[[Any], None], *, with_policy: bool = True, storage_data_plane: bool = False) -> Path:
        from cdktf import App, Aspects, LocalBackend, TerraformStack
        from cdktf_cdktf_provider_azurerm.provider import (
            AzurermProvider,
            AzurermProviderFeatures,
            AzurermProviderFeaturesStorage,
        )

        from stacks.policy import PolicyAspect

        outdir = tmp_path / "out"
        app = App(outdir=str(outdir))
        stack = TerraformStack(app, "test")
        LocalBackend(stack, path="test.tfstate")
        # Like the real stacks (GR006); storage_data_plane=True declares the provider's default.
        storage = None if storage_data_plane else [AzurermProviderFeaturesStorage(data_plane_available=False)]
        AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures(storage=storage)])
        declare(stack)
        if with_policy:
            Aspects.of(stack).add(PolicyAspect())
        app.synth()
        return outdir / "stacks" / "test"

    return build
