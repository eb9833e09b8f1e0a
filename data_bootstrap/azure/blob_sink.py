"""Blob sink: writes files under a prefix of one container (Azure Storage or Azurite)."""

from __future__ import annotations

import builtins
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from azure.core import MatchConditions
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.storage.blob import BlobLeaseClient, ContainerClient

from data_bootstrap.errors import BootstrapError

STORAGE_RBAC_FIX = (
    "grant the identity 'Storage Blob Data Contributor' on the storage account and run from inside the VNet"
)
STORAGE_NETWORK_FIX = (
    "check the network path to the storage account: run from inside the VNet (public access is off), "
    "check DNS for its private endpoint and any proxy"
)
# Blob leases last 15-60 s unless renewed (learn.microsoft.com/rest/api/storageservices/lease-blob).
LEASE_SECONDS = 30
RENEW_EVERY_SECONDS = 10


@dataclass(frozen=True, kw_only=True)
class BlobInfo:
    name: str
    size: int
    last_modified: datetime
    lease_state: str  # available (never leased or released), leased, expired, breaking, broken

    @property
    def leased(self) -> bool:
        return self.lease_state == "leased"


class RunLease:
    """A renewed lease on one blob: while it is held, sweeps treat the run's folder as live.

    A background thread renews it every ``RENEW_EVERY_SECONDS``; if the process dies (even SIGKILL),
    the lease lapses within ``LEASE_SECONDS`` and the folder becomes stale."""

    def __init__(self, client: BlobLeaseClient) -> None:
        self._client = client
        self._stop = threading.Event()
        self.lost: str | None = None
        self._thread = threading.Thread(target=self._renew, name="run-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(RENEW_EVERY_SECONDS):
            try:
                self._client.renew()
            except (HttpResponseError, ServiceRequestError) as error:
                self.lost = str(error).splitlines()[0] if str(error) else type(error).__name__
                return

    def release(self) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(HttpResponseError, ServiceRequestError):  # lapsed or gone: nothing to give back
            self._client.release()


class BlobSink:
    def __init__(self, *, container: ContainerClient) -> None:
        self._container = container

    @property
    def account_name(self) -> str:
        return str(self._container.account_name)

    @property
    def container_name(self) -> str:
        return str(self._container.container_name)

    @property
    def location(self) -> str:
        return f"{self.account_name}/{self.container_name}"

    @contextmanager
    def _storage(self, action: str) -> Iterator[None]:
        try:
            yield
        except (ClientAuthenticationError, HttpResponseError) as error:
            status = getattr(error, "status_code", None)
            if status in (401, 403) or isinstance(error, ClientAuthenticationError):
                raise BootstrapError(
                    f"storage {self.location}: access denied while {action}", STORAGE_RBAC_FIX
                ) from error
            raise BootstrapError(f"storage {self.location}: HTTP {status} while {action}", "see --debug") from error
        except ServiceRequestError as error:  # chained: --debug shows the SDK error
            raise BootstrapError(f"storage {self.location}: unreachable while {action}", STORAGE_NETWORK_FIX) from error

    def list(self, prefix: str) -> list[str]:
        with self._storage(f"listing {prefix}"):
            return [blob.name for blob in self._container.list_blobs(name_starts_with=prefix)]

    def list_info(self, prefix: str) -> builtins.list[BlobInfo]:
        with self._storage(f"listing {prefix}"):
            return [
                BlobInfo(
                    name=blob.name,
                    size=int(blob.size),
                    last_modified=blob.last_modified,
                    lease_state=str(blob.lease.state or "available"),
                )
                for blob in self._container.list_blobs(name_starts_with=prefix)
            ]

    def create_if_absent(self, name: str, text: str) -> bool:
        """Writes ``name`` only if no blob has that name (an atomic If-None-Match: * write); False if one had."""
        with self._storage(f"writing {name}"):
            try:
                self._container.upload_blob(name, text.encode("utf-8"), overwrite=False)
            except ResourceExistsError:
                return False
        return True

    @contextmanager
    def lease(self, name: str) -> Iterator[RunLease]:
        """Creates ``name`` and holds a renewed lease on it for the body's duration."""
        self.upload_text(name, "")
        with self._storage(f"leasing {name}"):
            client = self._container.get_blob_client(name).acquire_lease(lease_duration=LEASE_SECONDS)
        held = RunLease(client)
        try:
            yield held
        finally:
            held.release()

    def read_with_etag(self, name: str) -> tuple[str, str] | None:
        """The blob's text and ETag, None if it is gone."""
        with self._storage(f"reading {name}"):
            try:
                download = self._container.download_blob(name)
            except ResourceNotFoundError:
                return None
            return download.readall().decode("utf-8"), str(download.properties.etag)

    def delete_if_unchanged(self, name: str, etag: str) -> None:
        """Deletes ``name`` only if nobody rewrote it since ``etag`` (If-Match); otherwise leaves it."""
        with self._storage(f"deleting {name}"):
            try:
                self._container.delete_blob(name, etag=etag, match_condition=MatchConditions.IfNotModified)
            except (ResourceNotFoundError, ResourceModifiedError):
                return

    def is_leased(self, name: str) -> bool:
        with self._storage(f"checking {name}"):
            try:
                properties = self._container.get_blob_client(name).get_blob_properties()
            except ResourceNotFoundError:
                return False
            return str(properties.lease.state) == "leased"

    def exists(self, name: str) -> bool:
        with self._storage(f"checking {name}"):
            return bool(self._container.get_blob_client(name).exists())

    def delete_prefix(self, prefix: str) -> None:
        self.delete(self.list(prefix))

    def delete(self, names: builtins.list[str]) -> None:
        for name in names:
            with self._storage(f"deleting {name}"):
                try:
                    self._container.delete_blob(name)
                except ResourceNotFoundError:  # removed meanwhile (another sweep): the goal is met
                    continue

    def upload_file(self, local: Path, name: str, *, on_bytes: Callable[[int], None]) -> None:
        """Streams the file in chunks; ``on_bytes`` receives the bytes sent since the last call."""
        sent = 0

        def hook(response: object) -> None:
            nonlocal sent
            current = getattr(response, "context", {}).get("upload_stream_current") or 0
            if current > sent:
                on_bytes(current - sent)
                sent = current

        with self._storage(f"writing {name}"), local.open("rb") as stream:
            self._container.upload_blob(name, stream, overwrite=True, raw_response_hook=hook, max_concurrency=4)
        if local.stat().st_size > sent:
            on_bytes(local.stat().st_size - sent)

    def upload_text(self, name: str, text: str) -> None:
        with self._storage(f"writing {name}"):
            self._container.upload_blob(name, text.encode("utf-8"), overwrite=True)

    def read_text(self, name: str) -> str:
        with self._storage(f"reading {name}"):
            return self._container.download_blob(name).readall().decode("utf-8")

    def download_prefix(self, prefix: str, target: Path) -> None:
        """Copies every blob under ``prefix`` into ``target`` (same relative names)."""
        for name in self.list(prefix):
            local = target / name[len(prefix) :].lstrip("/")
            local.parent.mkdir(parents=True, exist_ok=True)
            with self._storage(f"reading {name}"), local.open("wb") as handle:
                self._container.download_blob(name).readinto(handle)
