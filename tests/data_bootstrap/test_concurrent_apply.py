"""Issue 12, item 1: concurrent applies of the same content used to clear each other's folder and
register a version that pointed at incomplete data. Now each run writes its own folder, the first
to claim the version wins, and a killed run's folder is stale, reported by plan and removed by apply.

Real MLClient over the fake Azure ML socket, real azure-storage-blob against Azurite, real
snowflake-connector against fakesnow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobLeaseClient, ContainerClient

from data_bootstrap.cli import main
from data_bootstrap.rehearsal.emulators import AzuriteBlob, FakesnowServer
from data_bootstrap.settings import REPO_ROOT
from tests.data_bootstrap.apply_child import STALLED
from tests.data_bootstrap.bootstrap_fakes import ROWS, FakeAzure, FakeCredential, Wiring

pytestmark = pytest.mark.emulators


class RacingContainer(ContainerClient):
    """Holds the first part upload until the other run got there too: both runs have computed the
    version and found it unregistered, the interleaving that corrupted a version before."""

    barrier: threading.Barrier

    def upload_blob(self, name: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        if name.endswith("part-00000.parquet"):
            self.barrier.wait(timeout=60)
        return super().upload_blob(name, data, *args, **kwargs)


def data_versions(fake: FakeAzure) -> dict[str, dict[str, Any]]:
    return {path: doc for path, doc in fake.resources.items() if "/data/raw_house_data/versions/" in path}


def folder_listing(container: ContainerClient, folder: str) -> dict[str, int]:
    return {b.name.rsplit("/", 1)[1]: int(b.size) for b in container.list_blobs(name_starts_with=folder + "/")}


def cli(wiring: Wiring, outputs: Path, *args: str) -> int:
    command, *rest = args
    return main([command, "--env", "dev", "--outputs", str(outputs), *rest], runtime_factory=wiring)


def assert_one_complete_registered_version(fake: FakeAzure, container: ContainerClient) -> str:
    (document,) = data_versions(fake).values()
    folder: str = document["properties"]["dataUri"].split("/paths/", 1)[1].rstrip("/")
    manifest = json.loads(container.download_blob(f"{folder}/_COMPLETE").readall())
    listing = folder_listing(container, folder)
    assert {f["name"]: f["bytes"] for f in manifest["files"]}.items() <= listing.items()
    assert sum(f["rows"] for f in manifest["files"]) == manifest["rows"] == ROWS
    assert document["properties"]["tags"]["rows"] == str(ROWS)
    return folder


def test_two_applies_at_once_converge_on_one_complete_version(
    wiring: Wiring,
    azurite: AzuriteBlob,
    outputs_file: Path,
    fake_azure: FakeAzure,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(wiring, outputs_file, "apply", "--step", "connection") == 0
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def one_apply() -> None:
        racing = RacingContainer.from_connection_string(azurite.connection_string, wiring.container.container_name)
        racing.barrier = barrier
        run_wiring = Wiring(
            container=racing,
            snowflake_extra=wiring.snowflake_extra,
            credential=FakeCredential(),
            download_dir=wiring.download_dir,
        )
        codes.append(cli(run_wiring, outputs_file, "apply", "--step", "import"))

    threads = [threading.Thread(target=one_apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    out = capsys.readouterr().out
    assert codes == [0, 0]
    assert out.count(": registered, current;") == 1 and out.count(": unchanged (version exists), current;") == 1
    folder = assert_one_complete_registered_version(fake_azure, wiring.container)
    version_folder = folder.rsplit("/", 1)[0]
    # the loser removed its own folder: only the winner's folder and the claim are left
    names = set(wiring.container.list_blob_names())
    assert {name.rsplit("/", 1)[0] for name in names} == {folder, version_folder}

    assert cli(wiring, outputs_file, "verify", "--profile-dir", str(tmp_path / "profile")) == 0
    report = capsys.readouterr().out
    assert f"{ROWS:,} rows" in report and "verify: ok" in report


@pytest.fixture
def child_args(
    tmp_path: Path, fakesnow: FakesnowServer, azurite: AzuriteBlob, wiring: Wiring, private_key_pem: str
) -> list[str]:
    (tmp_path / "key.pem").write_text(private_key_pem)
    return [
        str(tmp_path / "arm.json"),
        "",  # outputs file: filled in by the test
        str(tmp_path / "key.pem"),
        azurite.connection_string,
        wiring.container.container_name,
        str(fakesnow.port),
    ]


def start_stalled_apply(child_args: list[str], outputs: Path, tmpdir: Path) -> subprocess.Popen[str]:
    arguments = [*child_args]
    arguments[1] = str(outputs)
    tmpdir.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.data_bootstrap.apply_child", *arguments],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmpdir)},  # where the Parquet spill goes
    )
    assert child.stderr is not None
    for line in child.stderr:
        if STALLED in line:
            return child
    child.kill()
    raise AssertionError(f"the child never reached the upload: {child.communicate()}")


def shared_fake(fake_azure: FakeAzure, child_args: list[str]) -> None:
    fake_azure.state_file = Path(child_args[0])


def test_an_apply_killed_mid_upload_leaves_a_stale_folder_that_plan_reports_and_apply_removes(
    wiring: Wiring,
    outputs_file: Path,
    fake_azure: FakeAzure,
    child_args: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shared_fake(fake_azure, child_args)
    assert cli(wiring, outputs_file, "apply", "--step", "connection") == 0
    child = start_stalled_apply(child_args, outputs_file, tmp_path / "child-tmp")
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    (partial,) = {n.rsplit("/", 1)[0] for n in wiring.container.list_blob_names()}
    assert "_COMPLETE" not in folder_listing(wiring.container, partial)
    assert data_versions(fake_azure) == {}

    capsys.readouterr()
    assert cli(wiring, outputs_file, "plan", "--step", "import") == 0
    assert "remove stale folder" not in capsys.readouterr().out  # its lease still runs: it may be alive
    # the dead run's lease lapses within 30 s; breaking it stands in for the wait
    BlobLeaseClient(wiring.container.get_blob_client(f"{partial}/_RUN")).break_lease(lease_break_period=0)
    assert cli(wiring, outputs_file, "plan", "--step", "import") == 0
    assert f"remove stale folder {partial}/ (2 blobs, not registered, no live run)" in capsys.readouterr().out

    assert cli(wiring, outputs_file, "apply", "--step", "import") == 0
    assert ": registered, current;" in capsys.readouterr().out
    folder = assert_one_complete_registered_version(fake_azure, wiring.container)
    assert not [n for n in wiring.container.list_blob_names() if n.startswith(partial + "/")]
    assert cli(wiring, outputs_file, "verify", "--profile-dir", str(tmp_path / "profile")) == 0
    assert f"{folder}/): {ROWS:,} rows" in capsys.readouterr().out


def test_sigterm_mid_upload_cleans_up_like_ctrl_c(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, child_args: list[str], tmp_path: Path
) -> None:
    """Issue 12, item 6: SIGTERM left the spill folder (30 MB) in the temp folder and the upload behind."""
    shared_fake(fake_azure, child_args)
    assert (
        main(["apply", "--env", "dev", "--outputs", str(outputs_file), "--step", "connection"], runtime_factory=wiring)
        == 0
    )
    child = start_stalled_apply(child_args, outputs_file, tmp_path / "child-tmp")
    os.kill(child.pid, signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted: cleaned up")
    assert list(wiring.container.list_blob_names()) == []
    assert list((tmp_path / "child-tmp").iterdir()) == []
    assert data_versions(fake_azure) == {}
