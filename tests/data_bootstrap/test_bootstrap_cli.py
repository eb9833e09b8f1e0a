"""plan / apply / verify end to end: real MLClient and SecretClient over the fake socket, real
snowflake-connector against fakesnow, real azure-storage-blob against Azurite."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from data_bootstrap.cli import main
from data_bootstrap.settings import REPO_ROOT
from tests.data_bootstrap.bootstrap_fakes import ROWS, FakeAzure, Wiring

pytestmark = pytest.mark.emulators

WS = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-globorealty-ml-dev"
    "/providers/Microsoft.MachineLearningServices/workspaces/mlw-globorealty-dev"
)
CONNECTION = f"{WS}/connections/snowflake-globorealty"
DATASTORE = f"{WS}/datastores/rawdata"


def run(wiring: Wiring, outputs: Path, *args: str) -> int:
    command, *rest = args
    return main([command, "--env", "dev", "--outputs", str(outputs), *rest], runtime_factory=wiring)


def edited_config(tmp_path: Path, old: str = "", new: str = "", *, extra: str = "") -> Path:
    """config/dev.toml with ``old`` replaced by ``new`` and ``extra`` appended, as tmp_path/dev.toml."""
    text = (REPO_ROOT / "config" / "dev.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "dev.toml"
    path.write_text(text.replace(old, new) + "\n" + extra, encoding="utf-8")
    return path


def key_fragments(pem: str) -> list[str]:
    """Pieces of the key as they could leak: PEM body lines and the base64 of the DER bytes."""
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    der = base64.b64decode("".join(body))
    return [*body[1:4], base64.b64encode(der[100:160]).decode(), der[100:160].hex()]


def test_plan_on_an_empty_workspace_lists_creates_and_writes_nothing(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wiring, outputs_file, "plan") == 0
    out = capsys.readouterr().out
    assert "workspace connection snowflake-globorealty: create" in out
    assert "metadata.key_vault_uri: 'https://kv-globorealty-devx3f.vault.azure.net/'" in out
    assert "datastore rawdata: create" in out
    assert "data asset raw_house_data: import" in out and "(current: none)" in out
    assert "    engine: stream ([data_asset].engine)" in out
    assert "remove stale folder" not in out
    assert fake_azure.writes() == []
    assert [(c.method, c.path) for c in fake_azure.arm_calls()] == [
        ("GET", CONNECTION),
        ("GET", DATASTORE),
        ("GET", f"{WS}/data/raw_house_data/versions"),  # the current version
        ("GET", f"{WS}/data/raw_house_data/versions"),  # registered folders, for the stale-folder sweep
    ]
    assert not [c for c in fake_azure.calls if c.host.endswith("vault.azure.net")]


def test_apply_creates_everything_then_a_rerun_is_a_no_op_and_verify_passes(
    wiring: Wiring,
    outputs_file: Path,
    fake_azure: FakeAzure,
    private_key_pem: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(wiring, outputs_file, "apply") == 0
    out, err = capsys.readouterr()
    assert "workspace connection snowflake-globorealty: created" in out
    version_folder = "devstoreaccount1/" + wiring.container.container_name + "/raw_house_data/"
    # the byte count depends on Arrow's buffers: stated as a shape, the row count exactly
    assert re.fullmatch(rf"reading Snowflake: {ROWS:,} rows, [1-9][0-9,]* bytes", err.splitlines()[0]), err
    assert err.splitlines()[1].startswith(f"writing {version_folder}") and f"{ROWS:,} rows" in err.splitlines()[1]
    assert len(err.splitlines()) == 2, err  # progress only: no SDK log noise
    assert "datastore rawdata: created" in out
    assert f"registered, current; {ROWS:,} rows" in out

    writes = fake_azure.writes()
    assert [(c.method, c.path.rsplit("/", 2)[-2]) for c in writes] == [
        ("PUT", "connections"),
        ("PUT", "datastores"),
        ("PUT", "versions"),
    ]
    connection, datastore, data = writes
    assert connection.api_version == "2024-04-01-preview"
    assert connection.json()["properties"]["category"] == "CustomKeys"
    assert connection.json()["properties"]["authType"] == "None"
    metadata = connection.json()["properties"]["metadata"]
    assert metadata["private_key_secret"] == "snowflake-private-key"
    assert metadata["jdbc_url"] == (
        "jdbc:snowflake://globorealty-dev01.snowflakecomputing.com/"
        "?db=GLOBOREALTY&schema=REAL_ESTATE&warehouse=WH_AML_XS&role=AML_READER&user=SVC_AML_BOOTSTRAP"
    )
    assert datastore.path == DATASTORE and datastore.api_version == "2024-10-01-preview"
    assert datastore.json()["properties"] == {
        "accountName": "stgloborealtymldevx3f",
        "containerName": "rawdata",
        "credentials": {"credentialsType": "None"},
        "description": "Raw (bronze) GloboRealty data; identity-based access",
        "endpoint": "core.windows.net",
        "protocol": "https",
        "tags": {},
        "datastoreType": "AzureBlob",
    }
    version = data.path.rsplit("/", 1)[-1]
    assert data.api_version == "2023-04-01-preview"
    assert data.json()["properties"]["dataType"] == "mltable"
    uri = data.json()["properties"]["dataUri"]
    assert re.fullmatch(rf"azureml://datastores/rawdata/paths/raw_house_data/{version}/run-[0-9T]+-[0-9a-f]{{8}}/", uri)
    assert data.json()["properties"]["tags"]["rows"] == str(ROWS)
    assert "imported_at" in data.json()["properties"]["tags"]
    assert len(version) == 16
    # the key was read from Key Vault (after its auth challenge) and never sent anywhere else
    vault_calls = [c for c in fake_azure.calls if c.host.endswith("vault.azure.net")]
    assert [c.path.rstrip("/") for c in vault_calls] == ["/secrets/snowflake-private-key"] * 2
    for call in fake_azure.calls:
        for fragment in key_fragments(private_key_pem):
            assert fragment not in call.body.decode("utf-8", "replace")
    run_folder = uri.split("/paths/", 1)[1]
    blobs = sorted(wiring.container.list_blob_names())
    assert blobs == [
        f"raw_house_data/{version}/_CLAIM",
        *(run_folder + n for n in ("MLTable", "_COMPLETE", "_RUN", "part-00000.parquet")),
    ]

    fake_azure.calls.clear()
    assert run(wiring, outputs_file, "apply") == 0
    rerun = capsys.readouterr().out
    assert "workspace connection snowflake-globorealty: unchanged" in rerun
    assert "datastore rawdata: unchanged" in rerun
    assert f"data asset raw_house_data:{version}: unchanged (version exists)" in rerun
    assert fake_azure.writes() == []

    profile_dir = tmp_path / "profile"
    assert run(wiring, outputs_file, "verify", "--profile-dir", str(profile_dir)) == 0
    report = capsys.readouterr().out
    assert f"{ROWS:,} rows" in report and "head(10):" in report and "describe():" in report
    assert "verify: ok" in report
    profile = json.loads((profile_dir / f"raw_house_data-{version}.json").read_text())
    assert profile["rows"] == ROWS and profile["ok"] is True


def test_apply_updates_only_what_drifted(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wiring, outputs_file, "apply", "--step", "connection") == 0
    assert run(wiring, outputs_file, "apply", "--step", "datastore") == 0
    fake_azure.resources[CONNECTION]["properties"]["metadata"]["warehouse"] = "WH_OTHER"
    capsys.readouterr()
    fake_azure.calls.clear()

    assert run(wiring, outputs_file, "plan", "--step", "connection") == 0
    assert "metadata.warehouse: 'WH_OTHER' -> 'WH_AML_XS'" in capsys.readouterr().out
    assert run(wiring, outputs_file, "apply", "--step", "all") == 0
    out = capsys.readouterr().out
    assert "workspace connection snowflake-globorealty: updated" in out
    assert "datastore rawdata: unchanged" in out
    assert [c.path.rsplit("/", 2)[-2] for c in fake_azure.writes()] == ["connections", "versions"]


def test_import_step_resolves_the_registered_connection_by_name(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wiring, outputs_file, "apply", "--step", "connection") == 0
    fake_azure.calls.clear()
    assert run(wiring, outputs_file, "apply", "--step", "import") == 0
    assert "registered" in capsys.readouterr().out
    gets = [c.path.rstrip("/") for c in fake_azure.calls if c.method == "GET"]
    assert CONNECTION in gets and "/secrets/snowflake-private-key" in gets


def test_schema_drift_fails_apply_before_anything_is_registered(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12, item 8: a result that breaks the data contract used to be registered, then failed verify."""
    config = edited_config(tmp_path, "SELECT * FROM", "SELECT ID, MARKET, PRICE FROM")
    assert run(wiring, outputs_file, "apply", "--step", "connection") == 0
    capsys.readouterr()
    assert run(wiring, outputs_file, "apply", "--step", "import", "--config", str(config)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nothing registered" in err
    assert "column 'location' is missing" in err and "column 'year_built' is missing" in err
    assert "[data_contract]" in err
    assert not [c for c in fake_azure.writes() if "/data/" in c.path]
    assert list(wiring.container.list_blob_names()) == []


def test_verify_checks_the_current_version_against_the_configured_contract(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """verify runs the contract apply enforced; a stricter contract shows each breach."""
    assert run(wiring, outputs_file, "apply") == 0
    capsys.readouterr()
    stricter = edited_config(
        tmp_path,
        extra='[data_contract]\ncolumns = { market = "text", garage = "integer", price = "text" }\n'
        'not_null = ["market"]\nallowed_values = { market = "urban" }\nranges = {}\n',
    )
    code = run(wiring, outputs_file, "verify", "--config", str(stricter), "--profile-dir", str(tmp_path / "p"))
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED: column 'garage' is missing" in out
    assert re.search(r"FAILED: column 'price' is decimal128\(\d+, 2\), expected text", out)  # NUMBER(12,2)
    assert "FAILED: column 'market' has values outside ['urban']: 'suburban', 'waterfront'" in out
    assert "verify: 3 problem(s)" in out


def test_current_follows_the_data_after_a_revert(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12, item 7: after going back to earlier content, plan and verify kept using the newer version."""
    other = edited_config(tmp_path, "REAL_ESTATE.RAW", "REAL_ESTATE.RAW WHERE BEDROOMS > 1")
    assert run(wiring, outputs_file, "apply") == 0
    first = re.search(r"data asset raw_house_data:([0-9a-f]{16}): registered", capsys.readouterr().out)
    assert run(wiring, outputs_file, "apply", "--config", str(other)) == 0
    second = re.search(r"data asset raw_house_data:([0-9a-f]{16}): registered", capsys.readouterr().out)
    assert first and second and first[1] != second[1]

    assert run(wiring, outputs_file, "apply") == 0  # the first content again
    out = capsys.readouterr().out
    assert f"data asset raw_house_data:{first[1]}: unchanged (version exists), current;" in out
    # the bytes reported are the registered folder's (its manifest), the same as when it was written
    assert run(wiring, outputs_file, "plan", "--step", "import") == 0
    assert f"(current: {first[1]})" in capsys.readouterr().out
    assert run(wiring, outputs_file, "verify", "--profile-dir", str(tmp_path / "p")) == 0
    assert f"data asset raw_house_data:{first[1]} (" in capsys.readouterr().out


def test_a_reused_version_reports_the_registered_folders_bytes(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12, item 10: "N bytes of Parquet" on a reused version reported the local spill."""
    assert run(wiring, outputs_file, "apply") == 0
    capsys.readouterr()
    sizes = {b.name: int(b.size) for b in wiring.container.list_blobs() if b.name.endswith(".parquet")}
    assert run(wiring, outputs_file, "apply") == 0
    assert f"unchanged (version exists), current; {ROWS:,} rows, {sum(sizes.values()):,} bytes of Parquet in " in (
        capsys.readouterr().out
    )


def test_verify_checks_the_registered_folder_against_its_manifest_not_the_tag(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12, item 1: verify said "951,136 rows ... ok" for a version whose tag said 2,000,000."""
    assert run(wiring, outputs_file, "apply") == 0
    capsys.readouterr()
    (version_path,) = [p for p in fake_azure.resources if "/data/raw_house_data/versions/" in p]
    fake_azure.resources[version_path]["properties"]["tags"]["rows"] = "2000000"
    assert run(wiring, outputs_file, "verify", "--profile-dir", str(tmp_path / "p")) == 1
    assert f"FAILED: the version's rows tag says 2000000, its manifest {ROWS:,}" in capsys.readouterr().out

    (part,) = [n for n in wiring.container.list_blob_names() if n.endswith(".parquet")]
    wiring.container.delete_blob(part)
    assert run(wiring, outputs_file, "verify", "--profile-dir", str(tmp_path / "p")) == 1
    out = capsys.readouterr().out
    assert "incomplete, not loaded" in out and "part-00000.parquet is missing" in out
