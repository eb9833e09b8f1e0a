"""The suite's synthesis cache (tests/conftest.py): a change to any input synthesizes afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.conftest as suite


@pytest.fixture
def fake_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "stacks" / "constructs").mkdir(parents=True)
    (tmp_path / "config").mkdir()
    (tmp_path / "main.py").write_text("print('synth')\n")
    (tmp_path / "stacks" / "constructs" / "storage.py").write_text("PUBLIC = False\n")
    (tmp_path / "config" / "dev.toml").write_text('name = "dev"\n')
    monkeypatch.setattr(suite, "REPO", tmp_path)
    return tmp_path


def key(**settings: str) -> str:
    return suite._synth_key(settings.get("name", "fast"), mode=settings.get("mode", "fast"), lane="cdktf")


def test_the_key_follows_every_input_and_nothing_else(fake_repo: Path) -> None:
    first = key()
    assert key() == first  # stable
    (fake_repo / "stacks" / "__pycache__").mkdir()
    (fake_repo / "stacks" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert key() == first  # bytecode is not an input
    (fake_repo / "stacks" / "constructs" / "storage.py").write_text("PUBLIC = True\n")
    changed = key()
    assert changed != first  # a construct (a nested, untracked-or-not source file)
    (fake_repo / "config" / "prod.toml").write_text('name = "prod"\n')
    assert key() not in {first, changed}  # a new config file
    assert key(mode="stock") != key()  # the settings
    (fake_repo / "requirements").mkdir()
    before = key()
    (fake_repo / "requirements" / "lock.txt").write_text("cdktf==0.21.0\n")
    assert key() != before  # the lock


def test_a_cached_synthesis_is_copied_whole_and_pruned_to_the_latest(fake_repo: Path, tmp_path: Path) -> None:
    cache, root = tmp_path / "cache", tmp_path / "run"
    cache.mkdir()
    root.mkdir()
    (root / "synth-fast" / "stacks" / "a").mkdir(parents=True)
    (root / "synth-fast" / "stacks" / "a" / "cdk.tf.json").write_text("{}")
    (root / "synth-fast.log").write_text("synthesized a\n")
    (root / "synth-fast.rc").write_text("0\n")
    (root / "synth-fast.key").write_text(key())
    (cache / "fast-0ld").mkdir()
    suite._remember(root, "fast", cache)
    assert [path.name for path in cache.iterdir()] == [key()]
    later = tmp_path / "later"
    later.mkdir()
    suite._launch_once(later, "fast", mode="fast", lane="cdktf", cache=cache)
    assert (later / "synth-fast" / "stacks" / "a" / "cdk.tf.json").read_text() == "{}"
    assert (later / "synth-fast.rc").read_text() == "0\n"
    assert not list(later.glob("*.incoming*"))
