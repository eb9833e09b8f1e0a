"""``engine_for``: the one place ``[data_asset].engine`` becomes code."""

from __future__ import annotations

import dataclasses

from data_bootstrap.engines import ENGINES, ImportEngine, engine_for
from data_bootstrap.engines.stream import StreamEngine
from data_bootstrap.engines.unload import UnloadEngine, warehouse_fingerprint_of
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
