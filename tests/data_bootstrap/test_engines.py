"""``engine_for``: the one place ``[data_asset].engine`` becomes code."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from data_bootstrap.engines import ENGINES, ImportEngine, engine_for
from data_bootstrap.engines.stream import StreamEngine
from data_bootstrap.engines.unload import UnloadEngine, warehouse_fingerprint_of
from data_bootstrap.rehearsal.demo import demo_config, with_engine
from data_bootstrap.settings import REPO_ROOT, load_config
from stacks.config import EnvironmentConfig
from stacks.config import ImportEngine as EngineName


def config_with_engine(engine: EngineName) -> EnvironmentConfig:
    config = load_config(REPO_ROOT / "config" / "dev.toml", env="dev")
    return dataclasses.replace(config, data_asset=dataclasses.replace(config.data_asset, engine=engine))


def test_the_default_engine_is_stream_and_implements_the_interface() -> None:
    engine: ImportEngine = engine_for(load_config(REPO_ROOT / "config" / "dev.toml", env="dev"))
    assert isinstance(engine, StreamEngine)
    assert engine.name == "stream"
    assert ENGINES == ("stream", "unload")


def test_unload_is_an_engine_of_its_own_behind_the_same_interface() -> None:
    engine: ImportEngine = engine_for(config_with_engine("unload"))
    assert isinstance(engine, UnloadEngine) and engine.name == "unload"
    stream = engine_for(config_with_engine("stream"))
    assert isinstance(stream, StreamEngine) and stream.fingerprint is warehouse_fingerprint_of


DEV_TOML = REPO_ROOT / "config" / "dev.toml"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_rehearsal_runs_from_a_config_copy_that_names_the_engine(engine: EngineName, tmp_path: Path) -> None:
    """``make demo ENGINE=...``: the engine reaches ``engine_for`` through a config file, as on Azure."""
    source = tmp_path / "dev.toml"
    source.write_text(with_engine(DEV_TOML.read_text(), "unload" if engine == "stream" else "stream"))
    config, path = demo_config(source, env="dev", engine=engine, state=tmp_path / "state")
    assert path == tmp_path / "state" / f"config-dev-{engine}.toml"
    assert config.data_asset.engine == engine
    assert load_config(path, env="dev") == config
    # everything but the engine is the source config
    original = load_config(source, env="dev")
    assert dataclasses.replace(config, data_asset=original.data_asset) == original


def test_the_engine_setting_is_added_to_a_data_asset_section_without_one_and_to_a_config_without_the_section() -> None:
    assert with_engine('[data_asset]\nname = "x"\n[unload]\n', "unload") == (
        '[data_asset]\nengine = "unload"\nname = "x"\n[unload]\n'
    )
    assert (
        with_engine('[data_asset]\n  engine = "stream"  # default\n', "unload") == '[data_asset]\nengine = "unload"\n'
    )
    assert (
        with_engine('[snowflake]\nrole = "R"\n', "unload")
        == '[snowflake]\nrole = "R"\n\n[data_asset]\nengine = "unload"\n'
    )


def test_without_an_engine_override_the_rehearsal_reads_the_config_as_given(tmp_path: Path) -> None:
    config, path = demo_config(DEV_TOML, env="dev", engine=None, state=tmp_path)
    assert (path, config.data_asset.engine) == (DEV_TOML, "stream")
    assert list(tmp_path.iterdir()) == []


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_no_production_module_imports_the_rehearsal() -> None:
    """The stand-ins stay apart (issue 17): only rehearsal modules import rehearsal modules."""
    package = REPO_ROOT / "data_bootstrap"
    production = [path for path in package.rglob("*.py") if "rehearsal" not in path.relative_to(package).parts]
    assert package / "commands.py" in production and package / "engines" / "stream.py" in production
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(m for m in imported_modules(path) if "rehearsal" in m)
        for path in production
    }
    assert {path: found for path, found in offenders.items() if found} == {}
