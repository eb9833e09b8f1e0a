"""The fast azurerm binding import: same bytes as the stock import, and a safe fallback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.stock_synth
def test_fast_import_synthesizes_byte_identical_json(synth_dir: Path, stock_synth_dir: Path) -> None:
    fast = sorted(p.relative_to(synth_dir) for p in synth_dir.rglob("*") if p.is_file())
    stock = sorted(p.relative_to(stock_synth_dir) for p in stock_synth_dir.rglob("*") if p.is_file())
    assert fast == stock
    assert any(p.name == "cdk.tf.json" for p in fast)
    for relative in fast:
        assert (synth_dir / relative).read_bytes() == (stock_synth_dir / relative).read_bytes(), relative


def _run(code: str, *, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env_path = [str(REPO)] + ([str(path)] if path else [])
    return subprocess.run(
        [sys.executable, "-c", code],
        env={
            "PYTHONPATH": ":".join(env_path),
            "PATH": "/usr/bin:/bin",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fast_path_never_runs_the_package_init() -> None:
    result = _run(
        "import sys; from stacks.binding_loader import load_binding; print(load_binding());"
        "import cdktf_cdktf_provider_azurerm.resource_group as rg;"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('cdktf_cdktf_provider_azurerm.'))))"
    )
    assert result.returncode == 0, result.stderr
    mode, loaded = result.stdout.split()
    assert mode == "fast"
    # _jsii and resource_group only, not the ~1,530 submodules the __init__ imports
    assert {name.split(".")[1] for name in loaded.split(",")} == {"_jsii", "resource_group"}
    assert result.stderr == ""


def test_falls_back_to_the_stock_import_with_one_warning_when_the_layout_changes(tmp_path: Path) -> None:
    package = tmp_path / "fake_binding"
    package.mkdir()
    (package / "__init__.py").write_text("STOCK_INIT_RAN = True\n")  # no _jsii submodule: unknown layout
    result = _run(
        "import sys; from stacks.binding_loader import load_binding;"
        "print(load_binding(package='fake_binding')); print(sys.modules['fake_binding'].STOCK_INIT_RAN)",
        path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["stock", "True"]
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("warning: fast azurerm binding import unavailable: fake_binding has no _jsii")


def test_falls_back_when_the_jsii_module_fails_to_load(tmp_path: Path) -> None:
    package = tmp_path / "broken_binding"
    (package / "_jsii").mkdir(parents=True)
    (package / "__init__.py").write_text("STOCK_INIT_RAN = True\n")
    (package / "_jsii" / "__init__.py").write_text("import a_module_that_does_not_exist\n")
    result = _run(
        "import sys; from stacks.binding_loader import load_binding;"
        "print(load_binding(package='broken_binding')); print(sys.modules['broken_binding'].STOCK_INIT_RAN)",
        path=tmp_path,
    )
    assert result.stdout.split() == ["stock", "True"]
    assert "loading broken_binding._jsii failed" in result.stderr
