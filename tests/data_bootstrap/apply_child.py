"""``python -m tests.data_bootstrap.apply_child``: one ``data_bootstrap apply`` in its own process, over
the fake Azure (state shared through a file) plus fakesnow and Azurite, whose upload of the first
Parquet part then stalls: the parent kills it (SIGKILL) or stops it (SIGTERM) mid-upload.

Arguments: STATE_FILE OUTPUTS_FILE KEY_FILE AZURITE_CONNECTION_STRING CONTAINER FAKESNOW_PORT
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import requests
from azure.storage.blob import ContainerClient

from data_bootstrap.cli import main
from tests.data_bootstrap.bootstrap_fakes import FakeAzure, FakeCredential, Wiring, fake_send

STALLED = "stalled mid-upload"


class StallingContainer(ContainerClient):
    """Writes the first part file, then stalls as a slow network would."""

    def upload_blob(self, name: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        result = super().upload_blob(name, data, *args, **kwargs)
        if name.endswith("part-00000.parquet"):
            print(STALLED, file=sys.stderr, flush=True)
            time.sleep(120)
        return result


def run(argv: list[str]) -> int:
    state, outputs, key, connection_string, container, fakesnow_port = argv
    fake = FakeAzure(secrets={"snowflake-private-key": Path(key).read_text()}, state_file=Path(state))
    requests.adapters.HTTPAdapter.send = fake_send(fake, requests.adapters.HTTPAdapter.send)  # type: ignore[method-assign]
    wiring = Wiring(
        container=StallingContainer.from_connection_string(connection_string, container),
        snowflake_extra={"host": "127.0.0.1", "port": int(fakesnow_port), "protocol": "http", "account": "fakesnow"},
        credential=FakeCredential(),
        download_dir=Path(state).parent / "downloads",
    )
    return main(["apply", "--env", "dev", "--outputs", outputs, "--step", "import"], runtime_factory=wiring)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
