"""Each failure gives one line naming what failed and the fix, exit 2, no traceback, nothing registered."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from data_bootstrap.cli import main
from data_bootstrap.errors import BootstrapError
from data_bootstrap.rehearsal.emulators import AZURITE_ACCOUNT, free_port
from data_bootstrap.settings import REPO_ROOT
from tests.data_bootstrap.bootstrap_fakes import OUTPUTS, FakeAzure, FakeCredential, Wiring

pytestmark = pytest.mark.emulators


def fails_cleanly(
    wiring: Wiring, argv: list[str], capsys: pytest.CaptureFixture[str], fake: FakeAzure | None = None
) -> str:
    """Runs the CLI expecting a failure; returns the one error line; checks nothing was registered."""
    code = main(argv, runtime_factory=wiring)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and "; fix: " in lines[0]
    assert "Traceback" not in captured.err + captured.out
    if fake is not None:
        assert fake.writes() == []
    assert list(wiring.container.list_blob_names()) == []
    return lines[0]


def apply_argv(outputs: Path, *extra: str) -> list[str]:
    return ["apply", "--env", "dev", "--outputs", str(outputs), *extra]


def config_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO_ROOT / "config" / "dev.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "dev.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_missing_config_file(
    wiring: Wiring, outputs_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = fails_cleanly(wiring, apply_argv(outputs_file, "--config", str(tmp_path / "nope.toml")), capsys)
    assert "config file" in line and "not found" in line and "--config" in line


def test_invalid_config_value(
    wiring: Wiring, outputs_file: Path, tmp_path: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(tmp_path, 'query = "SELECT', 'query = "DELETE')
    line = fails_cleanly(wiring, apply_argv(outputs_file, "--config", str(config)), capsys, fake_azure)
    assert "snowflake.query" in line and "not a single SELECT statement" in line
    assert fake_azure.calls == []


def test_missing_outputs_file_and_missing_output(
    wiring: Wiring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = fails_cleanly(wiring, apply_argv(tmp_path / "absent.json"), capsys)
    assert "outputs file" in line and "--outputs-file" in line
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"workspace_name": {"sensitive": False, "type": "string", "value": "w"}}))
    line = fails_cleanly(wiring, apply_argv(partial), capsys)
    assert "output 'subscription_id' is missing" in line


def test_azure_auth_failure(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    wiring.credential = FakeCredential(fail=True)
    line = fails_cleanly(wiring, apply_argv(outputs_file), capsys, fake_azure)
    assert "Azure authentication failed" in line and "az login" in line


def test_azure_ml_access_denied(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_azure.arm_status_override = 403
    line = fails_cleanly(wiring, apply_argv(outputs_file), capsys, fake_azure)
    assert "access denied (HTTP 403)" in line and "AzureML Data Scientist" in line


def test_key_vault_secret_missing(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_azure.secrets.clear()
    line = fails_cleanly(wiring, apply_argv(outputs_file), capsys, fake_azure)
    assert "Key Vault secret 'snowflake-private-key' not found" in line
    assert "az keyvault secret set" in line


def test_an_empty_key_vault_secret_is_refused(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_azure.secrets["snowflake-private-key"] = ""
    line = fails_cleanly(wiring, apply_argv(outputs_file), capsys, fake_azure)
    assert (
        "Key Vault secret 'snowflake-private-key' in " in line and " is empty; fix: upload the PEM file again" in line
    )


def test_key_vault_secret_is_not_a_key(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_azure.secrets["snowflake-private-key"] = "hunter2"
    line = fails_cleanly(wiring, apply_argv(outputs_file), capsys, fake_azure)
    assert "private key from Key Vault is unusable" in line and "hunter2" not in line


def test_snowflake_unreachable(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    wiring.snowflake_extra = {**wiring.snowflake_extra, "port": free_port(), "login_timeout": 1}
    line = fails_cleanly(wiring, apply_argv(outputs_file), capsys, fake_azure)
    assert "Snowflake account 'globorealty-dev01' is unreachable" in line


class _RejectingLogin(BaseHTTPRequestHandler):
    """Answers Snowflake's login request the way Snowflake does for a key it does not know."""

    code, message = "390144", "JWT token is invalid."

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.dumps(
            {"data": {"nextAction": None}, "code": self.code, "message": self.message, "success": False}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


class _OtherLoginError(_RejectingLogin):
    """A login failure that is neither an authentication nor a network problem."""

    code, message = "390422", "Some other login failure."


@pytest.fixture
def rejecting_snowflake() -> Iterator[int]:
    yield from _serve(_RejectingLogin)


@pytest.fixture
def otherwise_failing_snowflake() -> Iterator[int]:
    yield from _serve(_OtherLoginError)


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_snowflake_rejects_the_key(
    wiring: Wiring,
    outputs_file: Path,
    fake_azure: FakeAzure,
    rejecting_snowflake: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wiring.snowflake_extra = {**wiring.snowflake_extra, "port": rejecting_snowflake}
    line = fails_cleanly(wiring, apply_argv(outputs_file), capsys, fake_azure)
    assert "Snowflake rejected user 'SVC_AML_BOOTSTRAP'" in line and "RSA_PUBLIC_KEY" in line


def test_an_answer_from_snowflake_is_not_called_unreachable(
    wiring: Wiring,
    outputs_file: Path,
    fake_azure: FakeAzure,
    otherwise_failing_snowflake: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wiring.snowflake_extra = {**wiring.snowflake_extra, "port": otherwise_failing_snowflake}
    line = fails_cleanly(wiring, apply_argv(outputs_file), capsys, fake_azure)
    assert "unreachable" not in line
    assert "Snowflake refused the connection to account 'globorealty-dev01' (errno 390422" in line


def test_snowflake_query_error(
    wiring: Wiring, outputs_file: Path, tmp_path: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(tmp_path, "REAL_ESTATE.RAW", "REAL_ESTATE.MISSING")
    line = fails_cleanly(wiring, apply_argv(outputs_file, "--config", str(config)), capsys, fake_azure)
    assert "Snowflake query failed" in line and "MISSING" in line and "snowflake.query" in line


def test_snowflake_query_without_rows(
    wiring: Wiring, outputs_file: Path, tmp_path: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(tmp_path, "REAL_ESTATE.RAW", "REAL_ESTATE.RAW WHERE PRICE < 0")
    line = fails_cleanly(wiring, apply_argv(outputs_file, "--config", str(config)), capsys, fake_azure)
    assert "the Snowflake query returned no rows" in line


def test_storage_access_denied(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_key = base64.b64encode(b"not the account key" * 3).decode()
    good = wiring.container
    wiring.container = ContainerClient(
        good.url.rsplit("/", 1)[0],
        good.container_name,
        credential={"account_name": AZURITE_ACCOUNT, "account_key": wrong_key},
    )
    code = main(apply_argv(outputs_file), runtime_factory=wiring)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "access denied while listing raw_house_data/" in err and "Storage Blob Data Contributor" in err
    assert fake_azure.writes() == []
    assert list(good.list_blob_names()) == []


def test_debug_shows_the_traceback(wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure) -> None:
    fake_azure.secrets.clear()
    with pytest.raises(BootstrapError, match="not found"):
        main(["--debug", *apply_argv(outputs_file)], runtime_factory=wiring)


def test_module_entry_point_prints_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "data_bootstrap", "plan", "--env", "dev", "--outputs", str(tmp_path / "none.json")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    fix = (
        "run `cdktf deploy network-<env> mlplatform-<env> --outputs-file outputs.json` or "
        "`terraform -chdir=cdktf.out/stacks/mlplatform-<env> output -json > outputs.json`"
    )
    assert result.stderr.strip().splitlines() == [f"error: outputs file {tmp_path / 'none.json'} not found; fix: {fix}"]


@pytest.mark.parametrize("which", ["--outputs", "--config"])
@pytest.mark.parametrize("problem", ["directory", "unreadable", "not-utf8"])
def test_unreadable_inputs_are_one_line(
    wiring: Wiring, outputs_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str, problem: str
) -> None:
    """Issue 12, item 4: a directory, an unreadable file or non-UTF-8 bytes gave a traceback and exit 1."""
    bad = tmp_path / f"bad-{problem}"
    if problem == "directory":
        bad.mkdir()
    else:
        bad.write_bytes(b"\xff\xfe not utf-8 \x80" if problem == "not-utf8" else b"{}")
    expected = {"directory": "is a directory", "unreadable": "permission denied", "not-utf8": "is not UTF-8 text"}
    if problem == "unreadable" and os.geteuid() == 0:  # root reads any file; this one fails with EIO for anyone
        bad, expected["unreadable"] = Path("/proc/self/mem"), "cannot be read (Input/output error)"
    elif problem == "unreadable":
        bad.chmod(0)
    argv = apply_argv(bad) if which == "--outputs" else apply_argv(outputs_file, "--config", str(bad))
    line = fails_cleanly(wiring, argv, capsys)
    assert f"{bad} {expected[problem]}" in line


def other_outputs(tmp_path: Path, **changes: str) -> Path:
    path = tmp_path / "other-outputs.json"
    path.write_text(json.dumps({"mlplatform-dev": {**OUTPUTS, **changes}}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"workspace_name": "mlw-globorealty-prod"}, "output 'workspace_name' is 'mlw-globorealty-prod', but "
         "environment 'dev' names it 'mlw-globorealty-dev'"),
        ({"storage_account_name": "evil.example.com/x?"}, "output 'storage_account_name' is 'evil.example.com/x?'"),
        ({"key_vault_uri": "not a url"}, "output 'key_vault_uri' 'not a url' is not a Key Vault URI"),
        ({"key_vault_uri": "https://kv-globorealty-ml-prod.vault.azure.net/"},
         "output 'key_vault_uri' points at vault 'kv-globorealty-ml-prod'"),
        ({"subscription_id": "x"}, "output 'subscription_id' 'x' is not a subscription ID"),
        ({"raw_container_name": "curated"}, "output 'raw_container_name' is 'curated'"),
    ],
    ids=["other-workspace", "storage-not-a-name", "vault-not-a-url", "other-vault", "subscription", "container"],
)  # fmt: skip
def test_outputs_must_belong_to_the_chosen_environment(
    wiring: Wiring,
    tmp_path: Path,
    fake_azure: FakeAzure,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, str],
    expected: str,
) -> None:
    """Issue 12, item 5: the dev stack's outputs with --env prod (or doctored values) reached plan."""
    line = fails_cleanly(wiring, apply_argv(other_outputs(tmp_path, **changes)), capsys, fake_azure)
    assert expected in line and "pass the outputs of stack mlplatform-dev" in line
    assert fake_azure.calls == []


def test_prod_with_the_dev_outputs_is_refused(
    wiring: Wiring, outputs_file: Path, tmp_path: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    dev_outputs = tmp_path / "dev-outputs.json"
    dev_outputs.write_text(json.dumps({key: {"value": value} for key, value in OUTPUTS.items()}), encoding="utf-8")
    line = fails_cleanly(wiring, ["plan", "--env", "prod", "--outputs", str(dev_outputs)], capsys, fake_azure)
    assert "output 'resource_group_name' is 'rg-globorealty-ml-dev', but environment 'prod' names it" in line
    assert fake_azure.calls == []


def test_unreachable_storage_names_the_network_not_a_role(
    wiring: Wiring, outputs_file: Path, fake_azure: FakeAzure, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12, item 10: the "unreachable storage" error suggested a role grant as the fix."""
    closed_port = f"http://127.0.0.1:{free_port()}/{AZURITE_ACCOUNT}"
    wiring.container = ContainerClient(closed_port, "rawdata", retry_total=0)  # fail fast: nothing listens
    code = main(apply_argv(outputs_file, "--step", "import"), runtime_factory=wiring)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "unreachable while listing raw_house_data/" in err and "network path" in err
    assert "Storage Blob Data Contributor" not in err


def test_a_wrapped_azure_error_keeps_the_sdk_error_for_debug() -> None:
    """One line for the user; the SDK's error chained underneath for the --debug traceback."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError

    from data_bootstrap.azure.errors import azure_call
    from data_bootstrap.errors import BootstrapError

    for sdk_error in (HttpResponseError(message="conflict: request id 42"), ServiceRequestError("no route")):
        with pytest.raises(BootstrapError) as raised, azure_call("reading x", forbidden_fix="grant it"):
            raise sdk_error
        assert raised.value.__cause__ is sdk_error


def test_the_production_asset_loader_without_azure_sign_in_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader verify uses in production (mltable through the azureml:// URI), run for real:
    offline and signed out it must end in the one-line sign-in error, not a traceback."""
    from data_bootstrap.azure.asset_loading import load_asset_with_mltable
    from data_bootstrap.errors import BootstrapError
    from data_bootstrap.publishing.assets import AssetRef
    from data_bootstrap.settings import StackOutputs

    for name in [name for name in os.environ if name.startswith(("AZURE_", "IDENTITY_", "MSI_"))]:
        monkeypatch.delenv(name)
    outputs = StackOutputs(
        subscription_id="00000000-0000-0000-0000-000000000000",
        resource_group_name="rg-globorealty-ml-dev",
        workspace_name="mlw-globorealty-dev",
        storage_account_name="stgloborealtymldev",
        raw_container_name="rawdata",
        key_vault_uri="https://kv-globorealty-dev.vault.azure.net/",
    )
    ref = AssetRef(name="raw_house_data", version="0123456789abcdef", path="unused")
    with pytest.raises(BootstrapError, match=r"^loading data asset raw_house_data:0123456789abcdef: Azure authentic"):
        load_asset_with_mltable(ref, outputs)
