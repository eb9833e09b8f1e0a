"""Start and stop the local emulators: fakesnow (Snowflake wire protocol) and Azurite (Blob).

Both run as child processes on free ports and are always stopped, also when the body fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
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


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stops the child's whole process group (it leads one: ``start_new_session``), so helpers it
    started go too; SIGKILL after 5 s."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True, kw_only=True)
class _Spec:
    command: Sequence[str]
    name: str
    port: int


@contextmanager
def _children(*specs: _Spec, timeout: float = 30.0) -> Iterator[list[int]]:
    """Starts every command (side by side: each takes about a second to listen), each in its own
    session (a terminal's Ctrl-C reaches only us; we stop them), waits for their ports, yields pids."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for spec in specs:
            processes.append(
                subprocess.Popen(
                    spec.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
                )
            )
        for spec, process in zip(specs, processes, strict=True):
            _wait_for_port(spec.port, process, spec.name, timeout)
        yield [process.pid for process in processes]
    finally:
        for process in processes:
            _stop(process)


@dataclass(frozen=True, kw_only=True)
class FakesnowServer:
    """A fakesnow server; its in-memory databases are shared by every session while it runs."""

    port: int
    pid: int

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


def _fakesnow_spec() -> _Spec:
    port = free_port()
    return _Spec(command=[*_fakesnow_command(), "-s", "-p", str(port)], name="fakesnow", port=port)


@contextmanager
def fakesnow_server() -> Iterator[FakesnowServer]:
    spec = _fakesnow_spec()
    with _children(spec) as (pid,):
        yield FakesnowServer(port=spec.port, pid=pid)


@dataclass(frozen=True, kw_only=True)
class AzuriteBlob:
    port: int
    pid: int

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


def _azurite_spec(location: Path) -> _Spec:
    port = free_port()
    location.mkdir(parents=True, exist_ok=True)
    command = [
        _azurite_binary(), "--location", str(location), "--silent", "--loose", "--disableTelemetry",
        "--skipApiVersionCheck", "--blobHost", "127.0.0.1", "--blobPort", str(port),
    ]  # fmt: skip
    return _Spec(command=command, name="azurite", port=port)


@contextmanager
def azurite_blob(*, location: Path) -> Iterator[AzuriteBlob]:
    spec = _azurite_spec(location)
    with _children(spec) as (pid,):
        yield AzuriteBlob(port=spec.port, pid=pid)


@contextmanager
def local_emulators(*, azurite_location: Path) -> Iterator[tuple[FakesnowServer, AzuriteBlob]]:
    """fakesnow and Azurite started side by side (the local rehearsal and the import benchmark)."""
    snow, blob = _fakesnow_spec(), _azurite_spec(azurite_location)
    with _children(snow, blob) as (snow_pid, blob_pid):
        yield FakesnowServer(port=snow.port, pid=snow_pid), AzuriteBlob(port=blob.port, pid=blob_pid)
