"""``python -m data_bootstrap.rehearsal.demo`` as a user runs it: created, then reused, and nothing left running."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from data_bootstrap.settings import REPO_ROOT

pytestmark = pytest.mark.emulators

LAST_LINE = re.compile(r"asset raw_house_data:([0-9a-f]{16}) rows=(\d+) (created|reused)")
PORTS = re.compile(r"fakesnow on port (\d+), Azurite on port (\d+)")


def demo_command(tmp_path: Path, rows: int) -> list[str]:
    return [
        sys.executable, "-m", "data_bootstrap.rehearsal.demo", "--rows", str(rows), "--engine", "stream",
        "--state-dir", str(tmp_path / "state"), "--profile-dir", str(tmp_path / "profile"),
    ]  # fmt: skip


def assert_nothing_left(ports: tuple[int, ...], state: Path) -> None:
    for port in ports:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
    marks = [f"-p\0{ports[0]}", str(state)]  # fakesnow's port argument, Azurite's --location
    survivors = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().decode("utf-8", "replace")
            except OSError:  # exited meanwhile
                continue
            if any(mark in cmdline for mark in marks):
                survivors.append(cmdline.replace("\0", " "))
    assert survivors == []


def run_demo(tmp_path: Path, rows: int) -> tuple[str, str, tuple[int, ...]]:
    done = subprocess.run(demo_command(tmp_path, rows), cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ports = PORTS.search(done.stderr)
    assert ports is not None, done.stderr
    return done.stdout, done.stderr, (int(ports[1]), int(ports[2]))


def test_demo_creates_then_reuses_the_same_version_and_stops_its_emulators(tmp_path: Path) -> None:
    out, err, ports = run_demo(tmp_path, 2_000)
    first = LAST_LINE.fullmatch(out.splitlines()[-1])
    assert first is not None and first.groups()[1:] == ("2000", "created"), out[-300:]
    assert "verify: ok" in out and "seeding fakesnow GLOBOREALTY.REAL_ESTATE.RAW: 2,000 rows" in err
    assert f"engine stream ([data_asset].engine in {REPO_ROOT / 'config' / 'dev.toml'})" in err
    assert (tmp_path / "profile" / f"raw_house_data-{first[1]}.md").is_file()
    assert_nothing_left(ports, tmp_path / "state")

    out, _, ports = run_demo(tmp_path, 2_000)
    again = LAST_LINE.fullmatch(out.splitlines()[-1])
    assert again is not None and (again[1], again[3]) == (first[1], "reused"), out[-300:]
    assert_nothing_left(ports, tmp_path / "state")


def _sigint_as_in_a_terminal() -> None:
    # A suite started as a background job (`make test &` from a script) hands its children SIGINT
    # ignored, and Python then never turns it into KeyboardInterrupt: start the demo as a shell's
    # foreground job would (Python docs, signal module: "SIGINT is translated into a
    # KeyboardInterrupt exception if the parent process has not changed it").
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_demo_still_stops_its_emulators(tmp_path: Path, sig: signal.Signals) -> None:
    process = subprocess.Popen(
        demo_command(tmp_path, 300_000),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_as_in_a_terminal,
    )
    assert process.stderr is not None
    ports = None
    for line in process.stderr:  # both emulators are up when this line appears; seeding follows
        if (ports := PORTS.search(line)) is not None:
            break
    assert ports is not None, "the demo never reported its emulators"
    os.kill(process.pid, sig)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "interrupted: emulators stopped" in err and "asset raw_house_data" not in out
    assert_nothing_left((int(ports[1]), int(ports[2])), tmp_path / "state")
