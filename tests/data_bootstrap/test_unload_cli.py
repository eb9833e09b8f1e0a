"""``data_bootstrap plan / apply / verify`` with ``[data_asset].engine = "unload"`` (issue 17 item 4): the
real CLI and SDKs; Snowflake is the stand-in on fakesnow + Azurite, Azure ML and Key Vault the fake
socket, ARM a local HTTPS server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from data_bootstrap.azure.blob_sink import BlobSink
from data_bootstrap.azure.private_endpoints import storage_account_id
from data_bootstrap.azure.runtime import Runtime
from data_bootstrap.cli import main
from data_bootstrap.engines.unload import unload_objects
from data_bootstrap.rehearsal.emulators import FakesnowServer
from data_bootstrap.rehearsal.unload_standin import StandinAccount, StandinWarehouse, standin_connection
from data_bootstrap.settings import REPO_ROOT, StackOutputs, load_config
from tests.data_bootstrap.bootstrap_fakes import OUTPUTS, ROWS, FakeAzure, Wiring
from tests.data_bootstrap.test_private_endpoints import SNOWFLAKE_PE, FakeArm, arm_server, pending

ACCOUNT_ID = storage_account_id(
    subscription_id=OUTPUTS["subscription_id"],
    resource_group=OUTPUTS["resource_group_name"],
    account=OUTPUTS["storage_account_name"],
)


@dataclass
class UnloadWiring(Wiring):
    """The CLI's runtime with Snowflake sessions on the stand-in and ARM on a local server."""

    fakesnow: FakesnowServer | None = None
    arm_options: dict[str, Any] | None = None
    account: StandinAccount | None = None
    scratch: Path | None = None

    def __call__(self, outputs: StackOutputs) -> Runtime:
        runtime = super().__call__(outputs)
        config = load_config(REPO_ROOT / "config" / "dev.toml", env="dev")
        sink = BlobSink(container=self.container)
        objects = unload_objects(
            config, storage_account=sink.account_name, container=sink.container_name, tenant_id=outputs.tenant_id
        )
        if self.account is None:
            self.account = StandinAccount.as_declared(objects, storage_account_id=ACCOUNT_ID)
            assert self.account.privatelink is not None
            self.account.privatelink[0].update(snowflake_resource_id=SNOWFLAKE_PE, status="Pending")
        assert self.fakesnow is not None and self.scratch is not None
        args, account, scratch = self.fakesnow.connect_args(), self.account, self.scratch
        runtime.warehouse_factory = lambda params, name: StandinWarehouse(
            connection=standin_connection(args, database="GLOBOREALTY", schema="REAL_ESTATE"),
            objects=objects,
            sink=sink,
            account=account,
            scratch=scratch,
        )
        runtime.arm_options = self.arm_options or {}
        return runtime


@pytest.fixture
def arm(tmp_path: Path) -> Iterator[tuple[FakeArm, dict[str, Any]]]:
    fake = pending(ACCOUNT_ID)
    with arm_server(fake, tmp_path) as options:
        yield fake, options


@pytest.fixture
def unload_wiring(
    wiring: Wiring, fakesnow: FakesnowServer, arm: tuple[FakeArm, dict[str, Any]], tmp_path: Path
) -> UnloadWiring:
    return UnloadWiring(
        container=wiring.container,
        snowflake_extra=wiring.snowflake_extra,
        credential=wiring.credential,
        download_dir=wiring.download_dir,
        fakesnow=fakesnow,
        arm_options=arm[1],
        scratch=tmp_path,
    )


@pytest.fixture
def unload_config(tmp_path: Path) -> Path:
    path = tmp_path / "dev.toml"
    text = (REPO_ROOT / "config" / "dev.toml").read_text(encoding="utf-8")
    path.write_text(text + '\n[data_asset]\nengine = "unload"\n', encoding="utf-8")
    return path


@dataclass(frozen=True)
class Cli:
    """One unload environment: the CLI's wiring, its outputs and config, the fake Azure ML and ARM."""

    wiring: UnloadWiring
    outputs: Path
    config: Path
    azure: FakeAzure
    arm: FakeArm

    def run(self, command: str) -> int:
        arguments = [command, "--env", "dev", "--outputs", str(self.outputs), "--config", str(self.config)]
        return main(arguments, runtime_factory=self.wiring)


@pytest.fixture
def cli(
    unload_wiring: UnloadWiring,
    outputs_file: Path,
    unload_config: Path,
    fake_azure: FakeAzure,
    arm: tuple[FakeArm, dict[str, Any]],
) -> Cli:
    return Cli(wiring=unload_wiring, outputs=outputs_file, config=unload_config, azure=fake_azure, arm=arm[0])


def test_plan_shows_the_unload_and_the_approval_then_apply_approves_imports_and_reruns_as_a_no_op(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_arm, unload_wiring, fake_azure = cli.arm, cli.wiring, cli.azure
    assert cli.run("plan") == 0
    out = capsys.readouterr().out
    assert "engine: unload ([data_asset].engine)" in out
    assert f"approve private endpoint connection sf from Snowflake's endpoint {SNOWFLAKE_PE}" in out
    assert "storage integration AML_RAW_UNLOAD and stage GLOBOREALTY.REAL_ESTATE.AML_RAW_UNLOAD_STAGE: unchanged" in out
    assert "COPY INTO @GLOBOREALTY.REAL_ESTATE.AML_RAW_UNLOAD_STAGE/<content-version>/<run>/part" in out
    assert [m for m, *_ in fake_arm.requests] == ["GET", "GET"]  # plan approves nothing

    assert cli.run("apply") == 0
    out = capsys.readouterr().out
    assert f"registered, current; {ROWS:,} rows" in out
    puts = [(path, body) for method, path, _, body, _ in fake_arm.requests if method == "PUT"]
    assert [path.rsplit("/", 1)[1] for path, _ in puts] == ["sf"]  # Snowflake's connection, no other
    assert fake_arm.connections["other"]["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"
    assert unload_wiring.account is not None and unload_wiring.account.privatelink is not None
    unload_wiring.account.privatelink[0]["status"] = "Approved"  # as Snowflake reports once approved
    data = [c for c in fake_azure.writes() if c.path.endswith("/versions") or "/versions/" in c.path]
    assert data and data[-1].json()["properties"]["tags"]["engine"] == "unload"

    assert cli.run("apply") == 0
    out = capsys.readouterr().out
    assert "unchanged (version exists), current" in out
    assert len([m for m, *_ in fake_arm.requests if m == "PUT"]) == 1  # approved already: no second PUT

    assert cli.run("verify") == 0
    assert "verify: ok" in capsys.readouterr().out


def test_an_open_storage_account_stops_apply_before_anything_is_written(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.arm.account["properties"]["publicNetworkAccess"] = "Enabled"
    assert cli.run("apply") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the unload engine refuses to run: storage account stgloborealtymldevx3f is open")
    assert len(err.splitlines()) == 1
    assert list(cli.wiring.container.list_blobs()) == []
    assert not [c for c in cli.azure.writes() if "/data/" in c.path]
