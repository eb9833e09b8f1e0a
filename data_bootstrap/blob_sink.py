"""Blob sink: writes files under a prefix of one container (Azure Storage or Azurite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError
from azure.storage.blob import ContainerClient

from data_bootstrap.errors import BootstrapError

STORAGE_RBAC_FIX = (
    "grant the identity 'Storage Blob Data Contributor' on the storage account and run from inside the VNet"
)


class BlobSink:
    def __init__(self, *, container: ContainerClient) -> None:
        self._container = container

    @property
    def location(self) -> str:
        return f"{self._container.account_name}/{self._container.container_name}"

    @contextmanager
    def _storage(self, action: str) -> Iterator[None]:
        try:
            yield
        except (ClientAuthenticationError, HttpResponseError) as error:
            status = getattr(error, "status_code", None)
            if status in (401, 403) or isinstance(error, ClientAuthenticationError):
                raise BootstrapError(
                    f"storage {self.location}: access denied while {action}", STORAGE_RBAC_FIX
                ) from None
            raise BootstrapError(f"storage {self.location}: HTTP {status} while {action}", "see --debug") from None
        except ServiceRequestError:
            raise BootstrapError(f"storage {self.location}: unreachable while {action}", STORAGE_RBAC_FIX) from None

    def list(self, prefix: str) -> list[str]:
        with self._storage(f"listing {prefix}"):
            return [blob.name for blob in self._container.list_blobs(name_starts_with=prefix)]

    def exists(self, name: str) -> bool:
        with self._storage(f"checking {name}"):
            return bool(self._container.get_blob_client(name).exists())

    def delete_prefix(self, prefix: str) -> None:
        for name in self.list(prefix):
            with self._storage(f"deleting {name}"):
                self._container.delete_blob(name)

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
            self._container.upload_blob(name, stream, overwrite=True, raw_response_hook=hook)
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
