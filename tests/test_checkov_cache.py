"""The suite's checkov result cache (tests/checkov_cache.py): the same installed checkov, arguments and
scanned bytes replay the stored report with the new folder's paths; any change scans afresh."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.checkov_cache import SCANNED, cached_checkov, gate_command

# Stands in for the real checkov: counts its runs, reports the folder it scanned and what it found
# there (a report is JSON on stdout; exit 1 when a file says FAIL, as checkov exits on a failed check).
FAKE_CHECKOV = """#!/bin/sh
echo run >> "$(dirname "$0")/runs"
[ "$FAKE_MODE" = crash ] && { echo "Traceback: boom" >&2; exit 2; }
folder=$2
content=$(cat "$folder"/*/cdk.tf.json | tr -d '\\n"')
printf '{"file_abs_path": "%s/a/cdk.tf.json", "content": "%s"}' "$folder" "$content"
echo "scanned $folder" >&2
case "$content" in *FAIL*) exit 1;; esac
exit 0
"""


@pytest.fixture
def real(tmp_path: Path) -> Path:
    install = tmp_path / "checkov-venv"
    (install / "bin").mkdir(parents=True)
    record = install / "lib" / "python3.11" / "site-packages" / "checkov-3.3.30.dist-info" / "RECORD"
    record.parent.mkdir(parents=True)
    record.write_text("checkov/main.py,sha256=abc,100\n")
    checkov = install / "bin" / "checkov"
    checkov.write_text(FAKE_CHECKOV)
    checkov.chmod(0o755)
    return checkov


def scanned(tmp_path: Path, name: str, content: str) -> Path:
    folder = tmp_path / name / "stacks"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "cdk.tf.json").write_text(content)
    return folder


def runs(real: Path) -> int:
    log = real.parent / "runs"
    return len(log.read_text().splitlines()) if log.exists() else 0


def scan(
    folder: Path, real: Path, cache: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    rc = cached_checkov(
        ["-d", str(folder), "--framework", "terraform_json", "-o", "json", *extra], real=real, cache=cache
    )
    out, err = capsys.readouterr()
    return rc, out, err


def test_the_same_files_in_another_folder_replay_the_report_with_that_folders_paths(
    real: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    first = scan(scanned(tmp_path, "one", "FAIL x"), real, cache, capsys)
    other = scanned(tmp_path, "two", "FAIL x")
    second = scan(other, real, cache, capsys)
    assert runs(real) == 1
    assert second[0] == first[0] == 1  # the exit code is replayed too
    assert json.loads(second[1]) == {"file_abs_path": f"{other}/a/cdk.tf.json", "content": "FAIL x"}
    assert second[2] == f"scanned {other}\n"
    (stored,) = cache.glob("*.json")
    assert SCANNED in stored.read_text() and str(tmp_path) not in stored.read_text()


def test_a_changed_byte_an_argument_or_another_checkov_scans_afresh(
    real: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    folder = scanned(tmp_path, "one", "ok")
    scan(folder, real, cache, capsys)
    (folder / "a" / "cdk.tf.json").write_text("FAIL")
    rc, out, _ = scan(folder, real, cache, capsys)
    assert (rc, json.loads(out)["content"], runs(real)) == (1, "FAIL", 2)
    scan(folder, real, cache, capsys, "--skip-check", "CKV_AZURE_1")
    assert runs(real) == 3
    (folder / "b").mkdir()  # a new file among the scanned ones
    (folder / "b" / "cdk.tf.json").write_text("FAIL")
    scan(folder, real, cache, capsys)
    assert runs(real) == 4
    record = next(real.parent.parent.glob("lib/*/site-packages/checkov-*.dist-info/RECORD"))
    record.write_text("checkov/main.py,sha256=def,101\n")  # checkov reinstalled or upgraded
    scan(folder, real, cache, capsys)
    assert runs(real) == 5
    dependency = record.parent.parent / "pydantic-2.0.dist-info" / "RECORD"
    dependency.parent.mkdir()
    dependency.write_text("pydantic/main.py,sha256=abc,100\n")  # a dependency changed under it
    scan(folder, real, cache, capsys)
    assert runs(real) == 6
    scan(folder, real, cache, capsys)
    assert runs(real) == 6


def test_a_run_without_a_report_is_never_replayed(
    real: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    folder = scanned(tmp_path, "one", "ok")
    monkeypatch.setenv("FAKE_MODE", "crash")
    assert scan(folder, real, cache, capsys)[:3] == (2, "", "Traceback: boom\n")
    monkeypatch.delenv("FAKE_MODE")
    assert scan(folder, real, cache, capsys)[0] == 0
    assert runs(real) == 2


def test_the_gate_runs_checkov_through_the_cache_only_when_given_one(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    assert "--checkov" not in gate_command(stacks, cache=None)
    command = gate_command(stacks, "--report", "r.json", cache=tmp_path / "cache")
    launcher = Path(command[command.index("--checkov") + 1])
    assert command[:6] == [sys.executable, "-m", "policy.checkov_gate", "--stacks-dir", str(stacks), "--report"]
    # The launcher is a program (the gate executes --checkov), and it reaches this module.
    done = subprocess.run([str(launcher), "--version"], capture_output=True, text=True, check=False)
    assert "expects one `-d FOLDER`" in done.stderr
