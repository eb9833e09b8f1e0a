"""Start and stop the local emulators: fakesnow (Snowflake wire protocol) and Azurite (Blob).

Both run as child processes on free ports and are always stopped, also when the body fails.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_bootstrap.errors import BootstrapError
from data_bootstrap.settings import REPO_ROOT

AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's published development key (learn.microsoft.com/azure/storage/common/storage-use-azurite)
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BootstrapError(f"{name} exited with code {process.returncode} at start", "run it by hand to see why")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise BootstrapError(f"{name} did not listen on port {port} within {timeout:.0f} s", "check the machine's load")


@contextmanager
def _child(command: Sequence[str], *, name: str, port: int, timeout: float = 30.0) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_port(port, process, name, timeout)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True, kw_only=True)
class FakesnowServer:
    """A fakesnow server; its in-memory databases are shared by every session while it runs."""

    port: int

    def connect_args(self) -> dict[str, Any]:
        """Extra ``snowflake.connector.connect`` arguments that aim the connector at this server."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "protocol": "http",
            "account": "fakesnow",
        }


def _fakesnow_command() -> list[str]:
    for candidate in (Path(sys.executable).parent / "fakesnow", REPO_ROOT / ".venv/bin/fakesnow"):
        if candidate.exists():
            return [str(candidate)]
    return [sys.executable, "-m", "fakesnow"]


@contextmanager
def fakesnow_server() -> Iterator[FakesnowServer]:
    port = free_port()
    with _child([*_fakesnow_command(), "-s", "-p", str(port)], name="fakesnow", port=port):
        yield FakesnowServer(port=port)


@dataclass(frozen=True, kw_only=True)
class AzuriteBlob:
    port: int

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={self.account_url};"
        )


def _azurite_binary() -> str:
    local = REPO_ROOT / "node_modules/.bin/azurite-blob"
    found = str(local) if local.exists() else shutil.which("azurite-blob")
    if found is None:
        raise BootstrapError("azurite-blob not found", "run `make install` (npm installs azurite into node_modules)")
    return found


@contextmanager
def azurite_blob(*, location: Path) -> Iterator[AzuriteBlob]:
    port = free_port()
    location.mkdir(parents=True, exist_ok=True)
    command = [
        _azurite_binary(), "--location", str(location), "--silent", "--loose", "--disableTelemetry",
        "--skipApiVersionCheck", "--blobHost", "127.0.0.1", "--blobPort", str(port),
    ]  # fmt: skip
    with _child(command, name="azurite", port=port):
        yield AzuriteBlob(port=port)
