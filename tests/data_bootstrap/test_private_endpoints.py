"""Approving Snowflake's private endpoint connection on the storage account (issue 17 item 3, data side).

The ARM calls go through azure-mgmt-core's real pipeline to a local HTTPS server (a self-signed
certificate the client is told to trust): the socket is fake, the SDK is not."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from data_bootstrap.azure.private_endpoints import (
    API_VERSION,
    StorageAccountArm,
    apply_approval,
    plan_approval,
    snowflake_endpoint,
    storage_account_id,
)
from data_bootstrap.errors import BootstrapError
from data_bootstrap.snowflake.unload_sql import provision_endpoint_sql
from tests.data_bootstrap.bootstrap_fakes import FakeCredential

ACCOUNT = storage_account_id(
    subscription_id="00000000-0000-0000-0000-000000000001", resource_group="rg-globorealty-ml-dev", account="stx3f"
)
PE = "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/privateEndpoints/{}"
SNOWFLAKE_PE = PE.format("99999999-0000-0000-0000-000000000000", "sf", "sf-blob")
OTHER_PE = PE.format("88888888-0000-0000-0000-000000000000", "x", "other")
PROVISION = provision_endpoint_sql(storage_account_id=ACCOUNT, blob_host="stx3f.blob.core.windows.net")
INFO = json.dumps(
    [
        {"provider_resource_id": "/subscriptions/x/other", "subresource": "blob", "snowflake_resource_id": OTHER_PE},
        {
            "provider_resource_id": ACCOUNT.lower(),  # Snowflake may not keep the case
            "subresource": "blob",
            "snowflake_resource_id": SNOWFLAKE_PE,
            "host": "stx3f.blob.core.windows.net",
            "endpoint_state": "CREATED",
            "status": "Pending",
        },
    ]
)


@dataclass
class FakeArm:
    account: dict[str, Any]
    connections: dict[str, dict[str, Any]]
    account_id: str = ACCOUNT
    requests: list[tuple[str, str, str, Any, str]] = field(default_factory=list)  # method, path, api, body, auth
    status: int = 200

    def answer(self, method: str, url: str, body: bytes, auth: str) -> tuple[int, Any]:
        parts = urlsplit(url)
        api = parse_qs(parts.query).get("api-version", [""])[0]
        self.requests.append((method, parts.path, api, json.loads(body) if body else None, auth))
        if self.status != 200:
            return self.status, {"error": {"code": "AuthorizationFailed", "message": "no"}}
        if method == "GET" and parts.path == self.account_id:
            return 200, self.account
        if method == "GET" and parts.path == f"{self.account_id}/privateEndpointConnections":
            return 200, {"value": list(self.connections.values())}
        name = parts.path.rsplit("/", 1)[1]
        if method == "PUT" and name in self.connections:
            state = json.loads(body)["properties"]["privateLinkServiceConnectionState"]
            self.connections[name]["properties"]["privateLinkServiceConnectionState"] = state
            return 200, self.connections[name]
        return 404, {"error": {"code": "NotFound", "message": parts.path}}


def connection(name: str, endpoint: str, status: str) -> dict[str, Any]:
    return {
        "id": f"{ACCOUNT}/privateEndpointConnections/{name}",
        "name": name,
        "properties": {"privateEndpoint": {"id": endpoint}, "privateLinkServiceConnectionState": {"status": status}},
    }


def locked_account() -> dict[str, Any]:
    return {
        "id": ACCOUNT,
        "properties": {
            "publicNetworkAccess": "Disabled",
            "networkAcls": {"defaultAction": "Deny"},
            "allowBlobPublicAccess": False,
            "allowSharedKeyAccess": False,
        },
    }


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def pending(account_id: str = ACCOUNT) -> FakeArm:
    """Another pending connection listed before Snowflake's (so "the first pending one" is the wrong
    one), on a locked-down account."""
    return FakeArm(
        account=locked_account(),
        connections={
            "other": connection("other", OTHER_PE, "Pending"),
            "sf": connection("sf", SNOWFLAKE_PE, "Pending"),
        },
        account_id=account_id,
    )


@contextmanager
def arm_server(fake: FakeArm, directory: Path) -> Iterator[dict[str, Any]]:
    """Serves ``fake`` over HTTPS on a free port; yields the ``StorageAccountArm`` options that reach it."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, document = fake.answer(
                self.command, self.path, self.rfile.read(length), self.headers.get("Authorization", "")
            )
            payload = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = _serve  # noqa: N815 (http.server's naming)

        def log_message(self, format: str, *args: Any) -> None:
            return

    cert, key = self_signed(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "endpoint": f"https://127.0.0.1:{server.server_address[1]}",
            "connection_verify": str(cert),
            "retry_total": 0,
        }
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def arm(tmp_path: Path) -> Iterator[tuple[FakeArm, StorageAccountArm]]:
    fake = pending()
    with arm_server(fake, tmp_path) as options:
        yield fake, StorageAccountArm(credential=FakeCredential(), account_id=ACCOUNT, **options)


def test_approves_only_the_connection_from_snowflakes_endpoint(arm: tuple[FakeArm, StorageAccountArm]) -> None:
    fake, client = arm
    plan = plan_approval(client, snowflake_endpoint(INFO, account_id=ACCOUNT), provision_sql=PROVISION)
    assert plan.action == "approve" and plan.connection.name == "sf"
    assert plan.render() == f"approve private endpoint connection sf from Snowflake's endpoint {SNOWFLAKE_PE}"
    assert [m for m, *_ in fake.requests] == ["GET", "GET"]  # plan writes nothing
    assert apply_approval(client, plan) is True
    method, path, api, body, auth = fake.requests[-1]
    assert (method, path, api) == ("PUT", f"{ACCOUNT}/privateEndpointConnections/sf", API_VERSION)
    assert body["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert auth.startswith("Bearer ")
    assert all(api == API_VERSION for _, _, api, _, _ in fake.requests)
    assert fake.connections["other"]["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"


def test_an_approved_connection_is_left_alone(arm: tuple[FakeArm, StorageAccountArm]) -> None:
    fake, client = arm
    fake.connections["sf"]["properties"]["privateLinkServiceConnectionState"]["status"] = "Approved"
    plan = plan_approval(client, snowflake_endpoint(INFO, account_id=ACCOUNT), provision_sql=PROVISION)
    assert plan.action == "approved"
    assert apply_approval(client, plan) is False
    assert "PUT" not in [m for m, *_ in fake.requests]


def refusal(client: StorageAccountArm, fake: FakeArm, info: str = INFO) -> str:
    with pytest.raises(BootstrapError) as caught:
        plan_approval(client, snowflake_endpoint(info, account_id=ACCOUNT), provision_sql=PROVISION)
    assert "\n" not in str(caught.value)
    assert "PUT" not in [m for m, *_ in fake.requests]
    return str(caught.value)


def test_refuses_when_the_storage_account_is_open(arm: tuple[FakeArm, StorageAccountArm]) -> None:
    fake, client = arm
    fake.account["properties"]["publicNetworkAccess"] = "Enabled"
    message = refusal(client, fake)
    assert message.startswith("the unload engine refuses to run: storage account stx3f is open beyond its private")
    assert "publicNetworkAccess is 'Enabled'" in message


def test_refuses_when_snowflake_has_no_endpoint_and_prints_the_provisioning_call(
    arm: tuple[FakeArm, StorageAccountArm],
) -> None:
    fake, client = arm
    message = refusal(client, fake, info="[]")
    assert message.startswith("Snowflake has no private endpoint to the storage account")
    assert PROVISION in message


def test_refuses_a_rejected_connection(arm: tuple[FakeArm, StorageAccountArm]) -> None:
    fake, client = arm
    fake.connections["sf"]["properties"]["privateLinkServiceConnectionState"]["status"] = "Rejected"
    assert f"Snowflake's private endpoint {SNOWFLAKE_PE} is Rejected" in refusal(client, fake)


def test_refuses_when_the_connection_never_reached_the_account(arm: tuple[FakeArm, StorageAccountArm]) -> None:
    fake, client = arm
    del fake.connections["sf"]
    assert "is not on the storage account" in refusal(client, fake)


def test_a_denied_approval_says_which_right_is_missing(arm: tuple[FakeArm, StorageAccountArm]) -> None:
    fake, client = arm
    fake.status = 403
    message = refusal(client, fake)
    assert message.startswith("ARM denied reading the storage account (403)")
    assert "private endpoint approver role at the storage account" in message
