"""The outside world the commands talk to, built from the stack outputs; tests swap single parts."""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd
from azure.ai.ml import MLClient
from azure.core.credentials import TokenCredential
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient
from azure.storage.blob import ContainerClient

from data_bootstrap.azure.asset_loading import load_asset_with_mltable
from data_bootstrap.publishing.assets import AssetRef
from data_bootstrap.settings import StackOutputs

if TYPE_CHECKING:
    from data_bootstrap.azure.private_endpoints import StorageAccountArm
    from data_bootstrap.engines.unload import Warehouse
    from data_bootstrap.snowflake.source import SnowflakeParams


@dataclass(kw_only=True)
class Runtime:
    outputs: StackOutputs
    credential_factory: Callable[[StackOutputs], TokenCredential] = field(
        default=lambda outputs: DefaultAzureCredential(), repr=False
    )
    container_factory: Callable[[StackOutputs, TokenCredential], ContainerClient] | None = None
    snowflake_extra: Mapping[str, Any] = field(default_factory=dict)
    asset_loader: Callable[[AssetRef, StackOutputs], pd.DataFrame] = load_asset_with_mltable
    arm_options: Mapping[str, Any] = field(default_factory=dict)  # ARM endpoint/transport (tests: a local server)
    # a Snowflake session for SQL run in the warehouse; None: the connector (tests: fakesnow's stand-in)
    warehouse_factory: Callable[[SnowflakeParams, str], Warehouse] | None = None

    @cached_property
    def credential(self) -> TokenCredential:
        return self.credential_factory(self.outputs)

    @cached_property
    def ml_client(self) -> MLClient:
        o = self.outputs
        return MLClient(self.credential, o.subscription_id, o.resource_group_name, o.workspace_name)

    def secret_client(self, vault_uri: str) -> SecretClient:
        return SecretClient(vault_url=vault_uri, credential=self.credential)

    def container(self) -> ContainerClient:
        if self.container_factory is not None:
            return self.container_factory(self.outputs, self.credential)
        o = self.outputs
        return ContainerClient(o.blob_account_url, o.raw_container_name, credential=self.credential)

    def storage_arm(self, account_id: str) -> StorageAccountArm:
        """The storage account's private endpoint connections through ARM (the unload engine)."""
        from data_bootstrap.azure.private_endpoints import StorageAccountArm

        return StorageAccountArm(credential=self.credential, account_id=account_id, **self.arm_options)
