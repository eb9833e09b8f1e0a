"""The fast binding load (Python import and Node require): same bytes as the stock path, and safe fallbacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.binding_loader import LAZY_NPM_PACKAGES, NODE_HOOK, jsii_node_environment
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
        # PATH as the suite has it (the supported Node first where the Makefile installed one) and the Node hook
        env={
            "PYTHONPATH": ":".join(env_path),
            **{name: os.environ[name] for name in ("PATH", "NODE_OPTIONS", "CDKTF_LAZY_BINDINGS")},
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


LOADED_SUBMODULES = (
    "print(','.join(sorted({m.split('.')[1] for m in sys.modules if m.startswith('cdktf_cdktf_provider_azurerm.')})))"
)


@pytest.mark.parametrize(
    ("how", "first_line", "submodules"),
    [
        (
            "from stacks.binding_loader import load_binding; print(load_binding());"
            "import cdktf_cdktf_provider_azurerm.resource_group",
            "fast",
            "_jsii,resource_group",
        ),
        # Tests and tools import constructs without main.py: the stock __init__ (15-50 s in the suite) must not run.
        (
            "from stacks.framework import RoleAssignment;"
            "print(getattr(sys.modules['cdktf_cdktf_provider_azurerm'], '__bare_binding__', False))",
            "True",
            "_jsii,role_assignment",
        ),
    ],
    ids=["load_binding", "construct_without_main"],
)
def test_fast_path_never_runs_the_package_init(how: str, first_line: str, submodules: str) -> None:
    result = _run(f"import sys; {how}; {LOADED_SUBMODULES}")
    assert result.returncode == 0, result.stderr
    # the submodules used only, not the ~1,530 the __init__ imports
    assert result.stdout.split() == [first_line, submodules]
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


# --- Node side: the kernel's lazy require hook ------------------------------------

NODE = shutil.which("node", path=os.environ["PATH"]) or "node"


def _fake_binding(root: Path, index_lines: list[str]) -> Path:
    """node_modules/@cdktf/provider-fake laid out like a prebuilt binding; each submodule logs its load."""
    package = root / "node_modules" / "@cdktf" / "provider-fake"
    (package / "lib").mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "@cdktf/provider-fake", "main": "lib/index.js"}))
    (package / "lib" / "index.js").write_text("\n".join(index_lines) + "\n")
    for name in ("resource-group", "storage-account"):
        (package / "lib" / name).mkdir()
        (package / "lib" / name / "index.js").write_text(
            f'globalThis.loaded = [...(globalThis.loaded || []), "{name}"];\nexports.Kind = "{name}";\n'
        )
    return package


GENERATED_INDEX = [
    '"use strict";',
    "/**",
    " * Copyright (c) HashiCorp, Inc.",
    " * SPDX-License-Identifier: MPL-2.0",
    " */",
    'Object.defineProperty(exports, "__esModule", { value: true });',
    "exports.storageAccount = exports.resourceGroup = void 0;",
    "// generated by cdktf get",
    'exports.resourceGroup = require("./resource-group");',
    'exports.storageAccount = require("./storage-account");',
    "//# sourceMappingURL=index.js.map",
]
READ_ONE = (
    "const binding = require('@cdktf/provider-fake');"
    "const before = (globalThis.loaded || []).join(',');"
    "const kind = binding.resourceGroup.Kind;"
    "console.log(JSON.stringify({before, kind, after: globalThis.loaded.join(','), keys: Object.keys(binding)}));"
)


def _node(root: Path, code: str, *, lazy: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "NODE_OPTIONS": f"--require={NODE_HOOK}", "CDKTF_LAZY_BINDINGS": lazy}
    return subprocess.run([NODE, "-e", code], cwd=root, env=env, capture_output=True, text=True, timeout=60)


def test_node_hook_loads_only_the_submodules_used(tmp_path: Path) -> None:
    _fake_binding(tmp_path, GENERATED_INDEX)
    result = _node(tmp_path, READ_ONE, lazy="@cdktf/provider-fake")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "before": "",
        "kind": "resource-group",
        "after": "resource-group",
        "keys": ["resourceGroup", "storageAccount"],
    }
    assert result.stderr == ""


def test_node_hook_leaves_packages_it_is_not_told_about_alone(tmp_path: Path) -> None:
    _fake_binding(tmp_path, GENERATED_INDEX)
    result = _node(tmp_path, READ_ONE, lazy="@cdktf/provider-other")
    assert json.loads(result.stdout)["before"] == "resource-group,storage-account"


def test_node_hook_falls_back_with_one_warning_when_the_layout_changes(tmp_path: Path) -> None:
    changed = [*GENERATED_INDEX[:-1], 'exports.helper = () => require("./storage-account").Kind;', GENERATED_INDEX[-1]]
    _fake_binding(tmp_path, changed)
    result = _node(tmp_path, READ_ONE, lazy="@cdktf/provider-fake")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["before"] == "resource-group,storage-account"  # the stock load ran
    assert result.stderr == (
        "warning: fast binding load unavailable for @cdktf/provider-fake: unexpected line 11 in lib/index.js; "
        "loading all its submodules (slower)\n"
    )


def test_the_real_synthesis_loaded_only_a_few_submodules_of_each_binding(synth_dir: Path) -> None:
    """The shared fast synthesis ran with CDKTF_LAZY_BINDINGS_TRACE: the hook engaged on the real binding."""
    traced = [json.loads(line) for line in synth_dir.with_suffix(".trace").read_text().splitlines()]
    by_package = {entry["package"]: entry for entry in traced}
    assert sorted(by_package) == sorted(LAZY_NPM_PACKAGES)
    for entry in by_package.values():
        assert entry["submodules"] > 1000  # the generated index.js parsed: one line per resource
        assert 0 < entry["loaded"] < 40  # the stacks use ~25 resource types


def test_stock_synthesis_did_not_use_the_hook(stock_synth_dir: Path) -> None:
    assert not stock_synth_dir.with_suffix(".trace").exists()


def test_stock_mode_removes_the_hook_and_fast_mode_adds_it_once(tmp_path: Path) -> None:
    fast = jsii_node_environment({"PATH": "/usr/bin", "NODE_OPTIONS": "--max-old-space-size=512"}, mode="fast")
    assert fast["NODE_OPTIONS"] == f"--max-old-space-size=512 --require={NODE_HOOK}"
    assert fast["CDKTF_LAZY_BINDINGS"] == ",".join(LAZY_NPM_PACKAGES)
    again = jsii_node_environment({"PATH": "/usr/bin", **fast}, mode="fast")
    assert again["NODE_OPTIONS"] == fast["NODE_OPTIONS"]
    stock = jsii_node_environment({"PATH": "/usr/bin", **fast}, mode="stock")
    assert stock["NODE_OPTIONS"] == "--max-old-space-size=512"
    assert stock["CDKTF_LAZY_BINDINGS"] == ""


def test_a_project_local_node_goes_first_on_path_when_installed(tmp_path: Path) -> None:
    assert "PATH" not in jsii_node_environment({"PATH": "/usr/bin"}, mode="fast", local_node_bin=tmp_path)
    (tmp_path / "node").write_text("")
    updated = jsii_node_environment({"PATH": "/usr/bin"}, mode="fast", local_node_bin=tmp_path)
    assert updated["PATH"] == f"{tmp_path}{os.pathsep}/usr/bin"
    assert "PATH" not in jsii_node_environment({"PATH": updated["PATH"]}, mode="fast", local_node_bin=tmp_path)
