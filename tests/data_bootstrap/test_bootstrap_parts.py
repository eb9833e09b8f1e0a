"""Synthetic data, the Snowflake source on fakesnow, key handling, verify checks, emulator lifecycle."""

# pandas and pyarrow ship no type information (no stubs in the lock)

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from data_bootstrap.errors import BootstrapError
from data_bootstrap.publishing.verify import verify_frame
from data_bootstrap.rehearsal.emulators import FakesnowServer, fakesnow_server
from data_bootstrap.rehearsal.synthetic import CITIES, house_prices
from data_bootstrap.snowflake.source import SnowflakeCoordinates, SnowflakeParams, SnowflakeSource, private_key_der
from stacks.config import DataContractSection
from tests.data_bootstrap.bootstrap_fakes import ROWS, TABLE

pytestmark = pytest.mark.emulators

COORDINATES = SnowflakeCoordinates(
    account="globorealty-dev01",
    user="SVC$AML",
    role="AML READER",
    warehouse="WH",
    database="GLOBOREALTY",
    schema="REAL_ESTATE",
)

CONTRACT = DataContractSection()


def test_synthetic_table_is_deterministic_and_plausible() -> None:
    table = house_prices(3_000, seed=1)
    assert table.equals(house_prices(3_000, seed=1))
    assert not table.equals(house_prices(3_000, seed=2))
    frame = table.to_pandas()
    assert set(frame["MARKET"]) == set(CITIES)
    assert all(frame.loc[frame["MARKET"] == m, "LOCATION"].isin(CITIES[m]).all() for m in CITIES)
    assert np.corrcoef(frame["SQUARE_FEET"], frame["PRICE"])[0, 1] > 0.6
    by_market = frame.assign(per_sqft=frame["PRICE"] / frame["SQUARE_FEET"]).groupby("MARKET")["per_sqft"].median()
    assert by_market["waterfront"] > by_market["urban"] > by_market["suburban"]


def test_source_streams_the_seeded_table_as_arrow_batches(fakesnow: FakesnowServer) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    params = SnowflakeParams(coordinates=COORDINATES, private_key_der=der, extra=fakesnow.connect_args())
    batches = list(SnowflakeSource(params=params, query=f"SELECT * FROM {TABLE}").batches())
    assert sum(b.num_rows for b in batches) == ROWS
    assert batches[0].schema.names == [
        "ID", "MARKET", "LOCATION", "PROPERTY_TYPE", "SQUARE_FEET", "BEDROOMS", "BATHROOMS", "YEAR_BUILT",
        "LOT_SIZE_SQFT", "PRICE",
    ]  # fmt: skip
    assert "der" not in repr(params) and str(der[:8]) not in repr(params)


def test_jdbc_url_encodes_each_part() -> None:
    assert COORDINATES.jdbc_url() == (
        "jdbc:snowflake://globorealty-dev01.snowflakecomputing.com/"
        "?db=GLOBOREALTY&schema=REAL_ESTATE&warehouse=WH&role=AML%20READER&user=SVC%24AML"
    )


def test_encrypted_private_key_needs_its_passphrase() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"s3cret")
    ).decode()
    expected = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert private_key_der(pem, "s3cret") == expected
    with pytest.raises(BootstrapError, match=r"unusable \(encrypted, but no passphrase secret is configured\)"):
        private_key_der(pem, None)
    with pytest.raises(BootstrapError, match=r"unusable \(wrong passphrase\)"):
        private_key_der(pem, "not-it")
    plain = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(BootstrapError, match=r"unusable \(a passphrase is configured but the key is not encrypted\)"):
        private_key_der(plain, "s3cret")
    with pytest.raises(BootstrapError, match=r"unusable \(not a PEM private key\)"):
        private_key_der("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", None)


def test_verify_accepts_the_synthetic_table_and_names_each_problem() -> None:
    frame = house_prices(50, seed=4).to_pandas()
    assert verify_frame(frame, CONTRACT).ok
    broken = frame.drop(columns=["YEAR_BUILT"]).assign(
        BEDROOMS=frame["BEDROOMS"] + 0.5, MARKET=frame["MARKET"].where(frame.index > 0, "lunar")
    )
    problems = verify_frame(broken, CONTRACT).problems
    assert any("'year_built' is missing" in p for p in problems)
    assert "column 'bedrooms' has 50 non-whole value(s), expected integer" in problems
    assert any("'lunar'" in p for p in problems)
    empty = verify_frame(frame.iloc[0:0], CONTRACT)
    assert not empty.ok and "0 rows, expected at least 1" in empty.problems
    text_price = verify_frame(frame.assign(PRICE=frame["PRICE"].astype(str)), CONTRACT)
    assert any("'price'" in p for p in text_price.problems)


def test_verify_accepts_decimal_numbers() -> None:
    frame = house_prices(20, seed=4).to_pandas()
    from decimal import Decimal

    as_decimal = frame.assign(
        PRICE=[Decimal(str(v)) for v in frame["PRICE"]], BEDROOMS=frame["BEDROOMS"].astype(object)
    )
    assert verify_frame(pd.DataFrame(as_decimal), CONTRACT).ok


def test_emulator_is_stopped_when_the_body_fails(tmp_path: Path) -> None:
    port = 0
    with pytest.raises(RuntimeError, match="boom"), fakesnow_server() as server:
        port = server.port
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        raise RuntimeError("boom")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# --- promises of the idempotent apply and of verify (issue 15: each pinned on its own) ----------


def test_a_datastore_holding_an_account_key_is_a_change() -> None:
    from azure.ai.ml.entities import AccountKeyConfiguration, AzureBlobDatastore

    from data_bootstrap.azure.datastore import datastore_differences, desired_datastore

    desired = desired_datastore(name="rawdata", account_name="stgloborealty", container_name="rawdata")
    keyed = AzureBlobDatastore(
        name="rawdata",
        account_name="stgloborealty",
        container_name="rawdata",
        credentials=AccountKeyConfiguration(account_key="a2V5" * 22),
    )
    identity = AzureBlobDatastore(name="rawdata", account_name="stgloborealty", container_name="rawdata")
    assert datastore_differences(keyed, desired) == [
        "credentials: AccountKeyConfiguration -> identity-based (none stored)"
    ]
    assert datastore_differences(identity, desired) == []


def test_a_connection_to_another_snowflake_host_is_a_change() -> None:
    from data_bootstrap.snowflake.connection import ConnectionSpec

    spec = ConnectionSpec(
        name="snowflake", coordinates=COORDINATES, key_vault_uri="https://kv.vault.azure.net/", private_key_secret="k"
    )
    moved = replace(spec, coordinates=replace(COORDINATES, account="other-account")).to_entity()
    assert spec.differences(spec.to_entity()) == []
    assert f"target: https://other-account.snowflakecomputing.com -> https://{COORDINATES.host}" in spec.differences(
        moved
    )


def test_the_snowflake_session_is_closed_after_the_read(fakesnow: FakesnowServer) -> None:
    import snowflake.connector

    closed: list[bool] = []

    def connect(**arguments: object) -> snowflake.connector.SnowflakeConnection:
        connection = snowflake.connector.connect(**arguments)
        real_close = connection.close

        def close(retry: bool = True) -> None:
            # the connector's close() runs for real; fakesnow has no session logout, which the
            # connector logs and ignores, so is_closed() cannot tell here: record the call instead
            closed.append(True)
            real_close(retry)

        connection.close = close  # type: ignore[method-assign]
        return connection

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    params = SnowflakeParams(coordinates=COORDINATES, private_key_der=der, extra=fakesnow.connect_args())
    source = SnowflakeSource(params=params, query=f"SELECT * FROM {TABLE}", connect=connect)
    assert sum(batch.num_rows for batch in source.batches()) == ROWS
    assert closed == [True]


def _manifest() -> tuple[object, dict[str, int]]:
    from data_bootstrap.publishing.layout import Manifest, PartFile

    manifest = Manifest(
        version="0123456789abcdef",
        rows=300,
        parts=(
            PartFile(name="part-00000.parquet", bytes=1000, rows=200),
            PartFile(name="part-00001.parquet", bytes=500, rows=100),
        ),
        schema=(("ID", "int64"),),
    )
    return manifest, {"part-00000.parquet": 1000, "part-00001.parquet": 500, "MLTable": 120, "_COMPLETE": 300}


def test_verify_sees_every_way_a_run_folder_can_disagree_with_its_manifest() -> None:
    from data_bootstrap.publishing.layout import Manifest

    manifest, listing = _manifest()
    assert isinstance(manifest, Manifest)
    assert manifest.problems_with(listing) == []
    assert manifest.problems_with({**listing, "part-00001.parquet": 499}) == [
        "part-00001.parquet has 499 bytes, the manifest says 500"
    ]
    assert manifest.problems_with({**listing, "part-00002.parquet": 10}) == [
        "part-00002.parquet is not in the manifest"
    ]
    assert manifest.problems_with({k: v for k, v in listing.items() if k != "MLTable"}) == ["MLTable is missing"]
    short = Manifest(version=manifest.version, rows=301, parts=manifest.parts, schema=manifest.schema)
    assert short.problems_with(listing) == ["the parts hold 300 rows, the manifest says 301"]
