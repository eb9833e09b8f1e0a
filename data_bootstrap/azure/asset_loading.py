"""Loading a registered asset into pandas with ``mltable``, as a job would."""

# pandas ships no type information (no stubs in the lock)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from azure.storage.blob import ContainerClient

from data_bootstrap.azure.blob_sink import BlobSink
from data_bootstrap.azure.errors import azure_call
from data_bootstrap.errors import BootstrapError
from data_bootstrap.publishing.assets import AssetRef
from data_bootstrap.settings import StackOutputs

_READER_FIX = "grant the identity 'Storage Blob Data Reader' on the storage account and run inside the VNet"


def _import_mltable_in_hbi_mode() -> Any:
    """mltable, with its data engine in high-business-impact mode.

    The workspace is HBI, so the engine must not send diagnostics to Microsoft; without
    this its exit handler also spends ~3 s trying to reach Application Insights from a
    network that cannot. The switch is a module attribute of azureml-dataprep 5.x that
    the engine reads when it starts; if a later version drops it, nothing breaks.
    """
    import azureml.dataprep.api._rslex_executor as engine

    if hasattr(engine, "HBI_MODE"):
        engine.HBI_MODE = True
    import mltable  # imported late: its engine is slow to start and only verify needs it

    return mltable


def load_asset_with_mltable(ref: AssetRef, outputs: StackOutputs) -> pd.DataFrame:
    """Loads a registered asset through mltable's azureml:// URI (needs the workspace's network)."""
    mltable = _import_mltable_in_hbi_mode()

    uri = (
        f"azureml://subscriptions/{outputs.subscription_id}/resourcegroups/{outputs.resource_group_name}"
        f"/workspaces/{outputs.workspace_name}/data/{ref.name}/versions/{ref.version}"
    )
    from azureml.dataprep.api.errorhandlers import DataPrepException

    try:
        # mltable resolves the URI with DefaultAzureCredential: sign-in, 403 and network errors
        # are azure-core's, made one line like every other Azure call.
        with azure_call(f"loading data asset {ref.name}:{ref.version}", forbidden_fix=_READER_FIX):
            frame: pd.DataFrame = mltable.load(uri).to_pandas_dataframe()
    except DataPrepException as error:  # base of mltable's load, auth and execution errors
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BootstrapError(
            f"loading data asset {ref.name}:{ref.version} with mltable failed ({first})",
            _READER_FIX,
        ) from error
    return frame


def load_asset_from_container(ref: AssetRef, container: ContainerClient, download_dir: Path) -> pd.DataFrame:
    """Downloads the asset's folder from ``container`` (Azurite in the local rehearsal and the tests)
    into ``download_dir/<version>`` and loads it with mltable, through its MLTable file as a job would."""
    mltable = _import_mltable_in_hbi_mode()
    folder = ref.path.split("/paths/", 1)[1].rstrip("/")
    local = download_dir / ref.version
    BlobSink(container=container).download_prefix(folder + "/", local)
    frame: pd.DataFrame = mltable.load(str(local)).to_pandas_dataframe()
    return frame
