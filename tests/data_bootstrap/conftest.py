"""Session-scoped emulators (fakesnow, Azurite), the fake Azure socket and a wired CLI runtime."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import snowflake.connector
from azure.keyvault.secrets._shared import http_challenge_cache
from azure.storage.blob import BlobServiceClient, ContainerClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from data_bootstrap.rehearsal.emulators import AzuriteBlob, FakesnowServer, azurite_blob, fakesnow_server
from data_bootstrap.rehearsal.synthetic import house_prices, seed_fakesnow
from data_bootstrap.settings import REPO_ROOT
from tests.data_bootstrap.bootstrap_fakes import (
    OUTPUTS,
    ROWS,
    TABLE,
    FakeAzure,
    FakeCredential,
    Wiring,
    fake_send,
)


@pytest.fixture(scope="session")
def fakesnow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakesnowServer]:
    with fakesnow_server() as server:
        args = server.connect_args()
        with snowflake.connector.connect(user="seed", password="seed", **args) as connection:
            scratch = tmp_path_factory.mktemp("seed")
            seed_fakesnow(connection.cursor(), house_prices(ROWS, seed=7), fq_name=TABLE, scratch=scratch)
        yield server


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteBlob]:
    with azurite_blob(location=tmp_path_factory.mktemp("azurite")) as server:
        yield server


@pytest.fixture
def container(azurite: AzuriteBlob) -> ContainerClient:
    """A fresh container per test, so tests never see each other's blobs."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    return service.create_container(f"rawdata-{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode()


@pytest.fixture
def fake_azure(monkeypatch: pytest.MonkeyPatch, private_key_pem: str) -> FakeAzure:
    # The Key Vault SDK caches each vault's auth challenge per process; start every test without it,
    # so a test sees the same calls whichever tests ran before it in its (xdist worker) process.
    http_challenge_cache.clear()
    fake = FakeAzure(secrets={"snowflake-private-key": private_key_pem})
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", fake_send(fake, requests.adapters.HTTPAdapter.send))
    return fake


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"mlplatform-dev": OUTPUTS}), encoding="utf-8")
    return path


@pytest.fixture
def wiring(fakesnow: FakesnowServer, container: ContainerClient, tmp_path: Path) -> Wiring:
    return Wiring(
        container=container,
        snowflake_extra={**fakesnow.connect_args(), "login_timeout": 5},
        credential=FakeCredential(),
        download_dir=tmp_path / "downloads",
    )


@pytest.fixture
def dev_config() -> Path:
    return REPO_ROOT / "config" / "dev.toml"
