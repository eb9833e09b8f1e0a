"""Snowflake source: connection parameters in, an iterator of Arrow record batches out."""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import quote, urlencode

import pyarrow as pa
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from snowflake.connector.errors import DatabaseError, Error, ProgrammingError

from data_bootstrap.errors import BootstrapError
from stacks.config import EnvironmentConfig

# Login failures Snowflake reports for a rejected user, key or JWT (see Snowflake error codes 390xxx).
_AUTH_ERRNOS = frozenset({390100, 390101, 390102, 390144, 390145, 390146, 390186, 390190, 390191, 390197})
# The connector's own "could not get there" codes (snowflake-connector-python 4.8.1
# snowflake/connector/errorcode.py: ER_FAILED_TO_CONNECT_TO_DB, ER_FAILED_TO_REQUEST,
# ER_CONNECTION_TIMEOUT); any other errno is Snowflake answering, not the network failing.
_NETWORK_ERRNOS = frozenset({250001, 250003, 251011})


@dataclass(frozen=True, kw_only=True)
class SnowflakeCoordinates:
    """The non-secret half of a connection."""

    account: str
    user: str
    role: str
    warehouse: str
    database: str
    schema: str

    @classmethod
    def field_names(cls) -> list[str]:
        return [spec.name for spec in fields(cls)]

    def as_dict(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in self.field_names()}

    @property
    def host(self) -> str:
        return f"{self.account}.snowflakecomputing.com"

    def jdbc_url(self) -> str:
        """JDBC URL with each query value percent-encoded (identifiers may carry '$')."""
        query = urlencode(
            {
                "db": self.database,
                "schema": self.schema,
                "warehouse": self.warehouse,
                "role": self.role,
                "user": self.user,
            },
            quote_via=quote,
        )
        return f"jdbc:snowflake://{quote(self.host, safe='.-')}/?{query}"


def snowflake_coordinates(config: EnvironmentConfig) -> SnowflakeCoordinates:
    s = config.snowflake
    return SnowflakeCoordinates(
        account=s.account, user=s.user, role=s.role, warehouse=s.warehouse, database=s.database, schema=s.schema
    )


@dataclass(frozen=True, kw_only=True)
class SnowflakeParams:
    """Coordinates plus the DER-encoded private key; ``extra`` carries host/port overrides for the emulator."""

    coordinates: SnowflakeCoordinates
    private_key_der: bytes = field(repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict)


def private_key_der(pem: str, passphrase: str | None = None) -> bytes:
    """PEM (PKCS#8, optionally encrypted) -> unencrypted DER, the form the connector takes."""
    try:
        key = serialization.load_pem_private_key(
            pem.encode("utf-8"), password=passphrase.encode("utf-8") if passphrase else None
        )
    except (ValueError, TypeError):
        # Decided by the PEM itself (RFC 7468 section 11: PKCS#8 encrypted keys are labelled
        # "ENCRYPTED PRIVATE KEY"; legacy OpenSSL ones carry "Proc-Type: 4,ENCRYPTED"), not by the
        # wording of cryptography's error message.
        if "-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem or "Proc-Type: 4,ENCRYPTED" in pem:
            reason = "wrong passphrase" if passphrase else "encrypted, but no passphrase secret is configured"
        elif passphrase and "PRIVATE KEY-----" in pem:
            reason = "a passphrase is configured but the key is not encrypted"
        else:
            reason = "not a PEM private key"
        raise BootstrapError(
            f"the Snowflake private key from Key Vault is unusable ({reason})",
            "upload the PKCS#8 PEM: `az keyvault secret set --file key.p8` (plus its passphrase secret if encrypted)",
        ) from None
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


Connect = Callable[..., Any]
BATCH_ROWS = 65_536


class SnowflakeSource:
    """Runs one query and yields its result as Arrow batches; memory holds one batch at a time."""

    def __init__(self, *, params: SnowflakeParams, query: str, connect: Connect = snowflake.connector.connect) -> None:
        self._params, self._query, self._connect = params, query, connect

    def open(self) -> Any:
        """A connection with key-pair (JWT) auth; failures become one-line errors."""
        c = self._params.coordinates
        arguments: dict[str, Any] = {
            **c.as_dict(),
            "authenticator": "SNOWFLAKE_JWT",
            "private_key": self._params.private_key_der,
            "login_timeout": 60,
            "application": "globorealty-data-bootstrap",
            **self._params.extra,
        }
        try:
            return self._connect(**arguments)
        except DatabaseError as error:
            if error.errno in _AUTH_ERRNOS:
                raise BootstrapError(
                    f"Snowflake rejected user {c.user!r} on account {c.account!r} ({error.msg})",
                    "register the public key on the user (ALTER USER ... SET RSA_PUBLIC_KEY=...) and check user/role",
                ) from None
            if error.errno in _NETWORK_ERRNOS:
                raise BootstrapError(
                    f"Snowflake account {c.account!r} is unreachable ({error.msg})",
                    "check snowflake.account in the config and the network path (firewall, private link, proxy)",
                ) from error
            raise BootstrapError(
                f"Snowflake refused the connection to account {c.account!r} (errno {error.errno}: {error.msg})",
                "check snowflake.account, user, role and warehouse in the config; --debug shows the connector's error",
            ) from error

    def batches(self) -> Iterator[pa.RecordBatch]:
        connection = self.open()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._query)
            except ProgrammingError as error:
                raise BootstrapError(
                    f"Snowflake query failed ({error.msg})",
                    "fix snowflake.query in the config or grant the role access to the table",
                ) from None
            try:
                for table in cursor.fetch_arrow_batches():  # each item is a pa.Table of one result chunk
                    # a chunk can hold the whole result (fakesnow sends one): slice it, so what the
                    # importer does per batch (hashing through pandas, Parquet) stays bounded
                    yield from table.to_batches(max_chunksize=BATCH_ROWS)
            except Error as error:
                raise BootstrapError(
                    f"reading the Snowflake result failed ({error.msg})", "re-run; check the warehouse"
                ) from None
        finally:
            connection.close()
