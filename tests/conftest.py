"""Session-wide fixtures: the app is synthesized once per test run, shared by every worker.

Synthesis runs `main.py` in a subprocess, exactly as `make synth` and
`cdktf synth` do. As soon as collection shows that a synthesis is needed (the
fast one for the snapshot, property and policy tests, the stock-import one for
the equivalence test, the cdktn lane's for the lane tests), one process of the run starts it in the background
into a folder shared by all pytest-xdist workers; the fixtures wait for its exit
code file. So the ~10 s stock synthesis overlaps the other tests, and with N
workers the app is still synthesized once, not N times.

Each finished synthesis is also kept in pytest's cache folder
(.pytest_cache/d/synth/), keyed by a hash of everything that decides its output:
main.py, stacks/, config/, cdktf.json, the locks, the installed framework and
binding versions, the Node version and the synthesis settings. A later run with
the same key copies it instead of synthesizing again (warm `make test`); any
change to those inputs synthesizes afresh. `pytest --cache-clear` or
TEST_CACHE=off synthesizes regardless (and turns off tests/checkov_cache.py too).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from stacks.binding_loader import jsii_node_environment
from stacks.naming import STACK_KINDS, stack_name

pytest_plugins = ["tests.scheduling"]

REPO = Path(__file__).resolve().parents[1]
ALL_STACKS = tuple(stack_name(kind, env) for env in ("dev", "prod") for kind in STACK_KINDS)
SYNTH_TIMEOUT_S = 300
# fixture -> (name, binding load mode, lane) of the shared synthesis it waits for
SHARED_SYNTHS = {
    "synth_dir": ("fast", "fast", "cdktf"),
    "stock_synth_dir": ("stock", "stock", "cdktf"),
    # the maintained lane (CDK Terrain, stacks/framework.py): tests/stacks/test_lanes.py
    "cdktn_synth_dir": ("cdktn", "fast", "cdktn"),
    # prod with the unload engine and a Snowflake integration principal: tests/stacks/test_unload_access.py
    "unload_synth_dir": ("unload", "fast", "cdktf"),
}
UNLOAD_STACKS = tuple(stack_name(kind, "prod") for kind in STACK_KINDS)
# The object ID the unload variant grants (any GUID: config checks the format, not existence).
UNLOAD_INTEGRATION_PRINCIPAL = "8d2c6b1e-4f7a-4c3d-9e5b-2a1f0c7d6e94"
# Exact lines of config/prod.toml the unload variant changes (each must occur once).
UNLOAD_EDITS = {
    'engine = "stream"': 'engine = "unload"',
    'integration_principal_id = ""': f'integration_principal_id = "{UNLOAD_INTEGRATION_PRINCIPAL}"',
}


def unload_variant_config(folder: Path) -> Path:
    """config/prod.toml with the unload engine and an integration principal, in ``folder``."""
    text = (REPO / "config" / "prod.toml").read_text(encoding="utf-8")
    for line, replacement in UNLOAD_EDITS.items():
        assert text.count(f"\n{line}\n") == 1, f"config/prod.toml must hold the line {line!r} exactly once"
        text = text.replace(f"\n{line}\n", f"\n{replacement}\n")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prod.toml").write_text(text, encoding="utf-8")
    return folder


# In-process jsii (the policy tests) gets what main.py gives its kernel: the
# supported Node where the Makefile installed one, and the lazy-load hook.
os.environ.update(jsii_node_environment(os.environ, mode="fast"))


def synth_command_env(
    outdir: Path, *, mode: str = "fast", environments: str = "all", lane: str = "cdktf"
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PLATFORM_ENV=environments, CDKTF_OUTDIR=str(outdir), CDKTF_BINDING_IMPORT=mode, PLATFORM_LANE=lane)
    return env


def load_stacks(outdir: Path) -> dict[str, dict[str, Any]]:
    return {
        path.parent.name: json.loads(path.read_text()) for path in sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    }


# --- one background synthesis per run, shared across xdist workers -----------------


def _run_root(config: pytest.Config) -> Path:
    """A folder unique to this run and shared by its workers (xdist gives each a subfolder of it)."""
    base = Path(config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


_launched: list[subprocess.Popen[bytes]] = []
# What decides a synthesis's output besides its settings (main.py reads nothing else; this file
# writes the unload variant's config).
SYNTH_INPUTS = ("main.py", "cdktf.json", "Pipfile.lock", "requirements", "stacks", "config", "tests/conftest.py")
SYNTH_DISTRIBUTIONS = (
    "jsii", "constructs", "cdktf", "cdktf-cdktf-provider-azurerm", "cdktf-cdktf-provider-time",
    "cdktn", "cdktn-provider-azurerm", "cdktn-provider-time",
)  # fmt: skip
SYNTH_RESULTS = ("", ".log", ".trace", ".rc")  # suffixes of synth-<name>: folder, log, Node trace, exit code


def _synth_key(name: str, *, mode: str, lane: str) -> str:
    digest = hashlib.sha256(f"{name} {mode} {lane} {sys.version}".encode())
    for entry in SYNTH_INPUTS:
        files = [REPO / entry] if (REPO / entry).is_file() else sorted((REPO / entry).rglob("*"))
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{path.relative_to(REPO)}\0".encode() + path.read_bytes() + b"\0")
    for distribution in SYNTH_DISTRIBUTIONS:
        try:
            digest.update(f"{distribution}=={importlib.metadata.version(distribution)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{distribution} missing".encode())
    # The Node the kernel runs on (os.environ carries jsii_node_environment's PATH, below).
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    digest.update(f"{shutil.which('node')} {node.stdout}".encode())
    return f"{name}-{digest.hexdigest()[:32]}"


def _suite_cache(config: pytest.Config, name: str) -> Path | None:
    """A folder of pytest's cache for the synthesis or checkov cache (None: TEST_CACHE=off, or no cache plugin)."""
    cache = getattr(config, "cache", None)
    if cache is None or os.environ.get("TEST_CACHE", "on") == "off":
        return None
    return Path(cache.mkdir(name))


def _synth_cache(config: pytest.Config) -> Path | None:
    return _suite_cache(config, "synth")


def _copy_results(source: Path, source_name: str, target: Path, target_name: str) -> None:
    for suffix in SYNTH_RESULTS:
        origin, copy = source / f"{source_name}{suffix}", target / f"{target_name}{suffix}"
        if origin.is_dir():
            shutil.copytree(origin, copy)
        elif origin.is_file():
            shutil.copyfile(origin, copy)


def _launch_once(root: Path, name: str, *, mode: str, lane: str, cache: Path | None = None) -> None:
    """Start `main.py` in the background unless another worker already did; it writes <name>.rc when done.

    With a cached result for the same inputs, copy that instead (the .rc last, so waiters see a whole one).
    """
    try:
        (root / f"synth-{name}.claim").open("x").close()
    except FileExistsError:
        return
    key = _synth_key(name, mode=mode, lane=lane) if cache else None
    (root / f"synth-{name}.key").write_text(key or "")
    if cache and key and (cache / key).is_dir():
        _copy_results(cache / key, "synth", root, f"synth-{name}.incoming")
        for suffix in SYNTH_RESULTS:
            incoming = root / f"synth-{name}.incoming{suffix}"
            if incoming.exists():
                incoming.rename(root / f"synth-{name}{suffix}")
        return
    outdir, log, rc = root / f"synth-{name}", root / f"synth-{name}.log", root / f"synth-{name}.rc"
    variant = (
        {"PLATFORM_CONFIG_DIR": str(unload_variant_config(root / "unload-config")), "PLATFORM_ENV": "prod"}
        if name == "unload"
        else {}
    )
    log_file, rc_file = shlex.quote(str(log)), shlex.quote(str(rc))
    script = f'"$@" >{log_file} 2>&1; echo $? >{rc_file}.tmp && mv {rc_file}.tmp {rc_file}'
    _launched.append(
        subprocess.Popen(
            ["sh", "-c", script, "synth", sys.executable, str(REPO / "main.py")],
            cwd=REPO,
            env={
                **synth_command_env(outdir, mode=mode, lane=lane),
                "CDKTF_LAZY_BINDINGS_TRACE": str(root / f"synth-{name}.trace"),
                **variant,
            },
            start_new_session=True,
        )
    )


def _remember(root: Path, name: str, cache: Path) -> None:
    """Keep a finished, clean synthesis for later runs (one writer wins; a half-written copy is never seen)."""
    key = (root / f"synth-{name}.key").read_text()
    if not key or (cache / key).exists():
        return
    scratch = cache / f".{key}.{os.getpid()}"
    scratch.mkdir()
    _copy_results(root, f"synth-{name}", scratch, "synth")
    try:
        scratch.rename(cache / key)
    except OSError:  # another worker stored the same key first
        shutil.rmtree(scratch)
        return
    for older in cache.glob(f"{name}-*"):  # one entry per synthesis: the latest inputs'
        if older.name != key:
            shutil.rmtree(older, ignore_errors=True)


def _wait_for(config: pytest.Config, mode: str) -> Path:
    root, cache = _run_root(config), _synth_cache(config)
    # Normally started at collection time; started here if collection could not tell it was needed.
    (spec,) = [synth for synth in SHARED_SYNTHS.values() if synth[0] == mode]
    _launch_once(root, mode, mode=spec[1], lane=spec[2], cache=cache)
    rc = root / f"synth-{mode}.rc"
    deadline = time.monotonic() + SYNTH_TIMEOUT_S
    while not rc.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{mode} synthesis did not finish in {SYNTH_TIMEOUT_S} s")
        time.sleep(0.1)
    log = (root / f"synth-{mode}.log").read_text()
    if rc.read_text().strip() != "0":
        raise RuntimeError(f"{mode} synthesis failed:\n{log}")
    # A silent fallback to the slow path would still pass the equivalence test: forbid it.
    assert "warning" not in log, log
    if cache is not None:
        _remember(root, mode, cache)
    return root / f"synth-{mode}"


def _synths_needed(item: pytest.Item) -> set[tuple[str, str, str]]:
    names = set(item.fixturenames)  # type: ignore[attr-defined]
    if "stacks" in names:  # resolved at run time from its lane parameter (pytest_generate_tests)
        callspec = getattr(item, "callspec", None)
        lane = callspec.params.get("stacks", "cdktf") if callspec else "cdktf"
        names.add("cdktn_synth_dir" if lane == "cdktn" else "synth_dir")
    return {synth for name, synth in SHARED_SYNTHS.items() if name in names}


def pytest_collection_finish(session: pytest.Session) -> None:
    needed = {synth for item in session.items for synth in _synths_needed(item)}
    for name, mode, lane in sorted(needed):
        _launch_once(_run_root(session.config), name, mode=mode, lane=lane, cache=_synth_cache(session.config))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stock_synth: needs the app synthesized with the stock binding import")


def pytest_unconfigure(config: pytest.Config) -> None:
    # Another worker may still be waiting for a synthesis this one started: let it finish.
    for process in _launched:
        try:
            process.wait(timeout=SYNTH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def stock_synth_dir(pytestconfig: pytest.Config) -> Path:
    return _wait_for(pytestconfig, "stock")


@pytest.fixture(scope="session")
def synth_dir(pytestconfig: pytest.Config) -> Path:
    return _wait_for(pytestconfig, "fast")


@pytest.fixture(scope="session")
def cdktn_synth_dir(pytestconfig: pytest.Config) -> Path:
    return _wait_for(pytestconfig, "cdktn")


@pytest.fixture(scope="session")
def unload_synth_dir(pytestconfig: pytest.Config) -> Path:
    return _wait_for(pytestconfig, "unload")


@pytest.fixture(scope="session")
def checkov_cache(pytestconfig: pytest.Config) -> Path | None:
    """Where tests/checkov_cache.py keeps checkov's reports (None: scan every time)."""
    return _suite_cache(pytestconfig, "checkov")


@pytest.fixture(scope="session")
def unload_stacks(unload_synth_dir: Path) -> dict[str, dict[str, Any]]:
    """The prod stacks synthesized with the unload engine and a Snowflake integration principal."""
    loaded = load_stacks(unload_synth_dir)
    assert tuple(loaded) == tuple(sorted(UNLOAD_STACKS))
    return loaded


def _all_stacks(outdir: Path) -> dict[str, dict[str, Any]]:
    loaded = load_stacks(outdir)
    assert tuple(loaded) == tuple(sorted(ALL_STACKS))
    return loaded


# Test modules whose `stacks` run on both lanes: the security and access properties hold in the
# maintained lane too. The other stack tests compare the lanes' JSON (tests/stacks/test_lanes.py).
BOTH_LANES_MODULES = frozenset(
    {"tests.stacks.test_security_properties", "tests.stacks.test_access_properties", "tests.stacks.test_first_apply"}
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "stacks" in metafunc.fixturenames and metafunc.module.__name__ in BOTH_LANES_MODULES:
        metafunc.parametrize("stacks", ["cdktf", "cdktn"], indirect=True, scope="session")


@pytest.fixture(scope="session")
def stacks(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """Every stack of the shared synthesis: the cdktf lane's unless the test runs on both lanes."""
    lane = getattr(request, "param", "cdktf")
    return _all_stacks(request.getfixturevalue("cdktn_synth_dir" if lane == "cdktn" else "synth_dir"))


@pytest.fixture(scope="session")
def cdktn_stacks(cdktn_synth_dir: Path) -> dict[str, dict[str, Any]]:
    return _all_stacks(cdktn_synth_dir)
