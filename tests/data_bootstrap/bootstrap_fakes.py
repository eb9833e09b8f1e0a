"""Test support. A fake Azure on the socket: a ``requests`` adapter answering ARM (Azure ML), Key Vault and Blob.

The real SDK clients (MLClient, SecretClient) build and send real HTTP requests; only the wire is
fake. Every request is recorded so tests can assert method, URL, api-version and body.
"""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import requests
import urllib3
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.storage.blob import ContainerClient
from requests.adapters import HTTPAdapter

from data_bootstrap.azure.asset_loading import load_asset_from_container
from data_bootstrap.azure.runtime import Runtime
from data_bootstrap.publishing.assets import AssetRef
from data_bootstrap.rehearsal.unload_standin import FakesnowWarehouse
from data_bootstrap.settings import StackOutputs

ARM = "management.azure.com"


def unsigned_jwt(audience: str) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"aud": audience, "oid": "00000000-0000-0000-0000-0000000000aa", "tid": "tenant", "exp": 4102444800}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class FakeCredential:
    """A TokenCredential handing out unsigned JWTs (the ML SDK reads ``aud``)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if self.fail:
            raise ClientAuthenticationError(
                "DefaultAzureCredential failed to retrieve a token from the included credentials"
            )
        return AccessToken(unsigned_jwt("https://ml.azure.com"), int(time.time()) + 3600)


@dataclass
class Call:
    method: str
    url: str
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def api_version(self) -> str:
        return parse_qs(urlsplit(self.url).query).get("api-version", [""])[0]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class FakeAzure:
    """State of the fake cloud: ARM resources by path, Key Vault secrets by name."""

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    arm_status_override: int | None = None
    state_file: Path | None = None  # shares the ARM resources with fakes in other processes
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.host == ARM and c.method in ("PUT", "POST", "PATCH", "DELETE")]

    def arm_calls(self) -> list[Call]:
        return [c for c in self.calls if c.host == ARM]

    def respond(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        raw = request.body or b""
        body = raw if isinstance(raw, bytes) else str(raw).encode()
        call = Call(str(request.method), str(request.url), body)
        self.calls.append(call)
        if call.host == ARM:
            with self._lock:  # one ARM request at a time, as a real resource provider serialises per resource
                self._load()
                answer = self._arm(call)
                if call.method == "PUT":
                    self._save()
                return answer
        if call.host.endswith(".vault.azure.net"):
            return self._vault(call, request)
        # anything else (blob reads the ML SDK tries for MLTable validation, schema downloads): absent
        return 404, {}, b""

    def _arm(self, call: Call) -> tuple[int, dict[str, str], bytes]:
        if self.arm_status_override is not None:
            error = {"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization"}}
            return self.arm_status_override, {}, json.dumps(error).encode()
        path = call.path.rstrip("/")
        if call.method == "GET" and path in self.resources:
            return 200, {}, json.dumps(self.resources[path]).encode()
        children = [doc for key, doc in self.resources.items() if key.rsplit("/", 1)[0] == path]
        if call.method == "GET" and children:  # a collection: ARM lists as {"value": [...]}
            return 200, {}, json.dumps({"value": children}).encode()
        if call.method == "PUT" and "/data/" in path and path in self.resources:
            # a data asset version is immutable, only its description and tags may change
            # (learn.microsoft.com/azure/machine-learning/how-to-create-register-datasets)
            before, after = self.resources[path]["properties"], call.json()["properties"]
            if before.get("dataUri") != after.get("dataUri"):
                conflict = {"error": {"code": "UserError", "message": f"{path} is immutable: dataUri cannot change"}}
                return 409, {}, json.dumps(conflict).encode()
        if call.method == "PUT":
            document = call.json()
            document.update({"id": path, "name": path.rsplit("/", 1)[-1]})
            created = self.resources.get(path, {}).get("systemData", {}).get("createdAt")
            document["systemData"] = {"createdAt": created or datetime.now(UTC).isoformat(), "createdBy": "test"}
            self.resources[path] = document
            return 200, {}, json.dumps(document).encode()
        return 404, {}, json.dumps({"error": {"code": "NotFound", "message": f"{path} not found"}}).encode()

    def _load(self) -> None:
        if self.state_file is not None and self.state_file.exists():
            self.resources = json.loads(self.state_file.read_text(encoding="utf-8"))

    def _save(self) -> None:
        if self.state_file is not None:
            temporary = self.state_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.resources), encoding="utf-8")
            temporary.replace(self.state_file)

    def _vault(self, call: Call, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        if "Authorization" not in request.headers:  # Key Vault's challenge: the first request goes unauthenticated
            challenge = (
                'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"'
            )
            return 401, {"WWW-Authenticate": challenge}, b""
        name = call.path.split("/")[2]
        if name not in self.secrets:
            error = {"error": {"code": "SecretNotFound", "message": f"A secret with (name/id) {name} was not found"}}
            return 404, {}, json.dumps(error).encode()
        secret = {
            "value": self.secrets[name],
            "id": f"https://{call.host}/secrets/{name}/0123",
            "attributes": {"enabled": True},
        }
        return 200, {}, json.dumps(secret).encode()


def fake_send(fake: FakeAzure, original: Any) -> Any:
    """An ``HTTPAdapter.send`` replacement: local traffic (Azurite) goes to the real socket."""

    def send(adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        host = urlsplit(str(request.url)).hostname
        if host in ("127.0.0.1", "localhost"):
            return original(adapter, request, **kwargs)  # type: ignore[no-any-return]
        status, headers, content = fake.respond(request)
        response = requests.Response()
        response.status_code = status
        response.request = request
        response.url = str(request.url)
        response.headers.update({"Content-Type": "application/json", "Content-Length": str(len(content)), **headers})
        response.raw = urllib3.HTTPResponse(body=io.BytesIO(content), status=status, preload_content=False)
        response._content = content
        return response

    return send


ROWS = 2_000
TABLE = "GLOBOREALTY.REAL_ESTATE.RAW"
VAULT_URI = "https://kv-globorealty-devx3f.vault.azure.net/"
OUTPUTS = {
    "subscription_id": "00000000-0000-0000-0000-000000000001",
    "tenant_id": "00000000-0000-0000-0000-000000000002",
    "location": "westeurope",
    "resource_group_name": "rg-globorealty-ml-dev",
    "workspace_name": "mlw-globorealty-dev",
    "workspace_id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w",
    "storage_account_name": "stgloborealtymldevx3f",
    "raw_container_name": "rawdata",
    "curated_container_name": "curated",
    "key_vault_name": "kv-globorealty-devx3f",
    "key_vault_uri": VAULT_URI,
    "container_registry_name": "crgloborealtymldevx3f",
    "identity_client_id": "00000000-0000-0000-0000-000000000003",
    "identity_principal_id": "00000000-0000-0000-0000-000000000004",
}


def load_from_sink(container: ContainerClient, target: Path) -> Callable[[AssetRef, StackOutputs], pd.DataFrame]:
    """Asset loader for tests: downloads the asset folder from Azurite and loads it with mltable."""
    return lambda ref, _outputs: load_asset_from_container(ref, container, target)


@dataclass
class Wiring:
    """What ``main(runtime_factory=...)`` gets: real clients, emulated or faked ends."""

    container: ContainerClient
    snowflake_extra: dict[str, Any]
    credential: FakeCredential
    download_dir: Path

    def __call__(self, outputs: StackOutputs) -> Runtime:
        return Runtime(
            outputs=outputs,
            credential_factory=lambda _: self.credential,
            container_factory=lambda _o, _c: self.container,
            snowflake_extra=self.snowflake_extra,
            asset_loader=load_from_sink(self.container, self.download_dir),
            warehouse_factory=lambda params, name: FakesnowWarehouse(params, warehouse=name),
        )
