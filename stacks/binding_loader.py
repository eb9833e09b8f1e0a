"""Fast loading of the prebuilt provider bindings (azurerm), on both sides of jsii.

``import cdktf_cdktf_provider_azurerm.<anything>`` first runs the package
``__init__``, which imports all ~1,530 resource submodules (9-17 s) although a
stack uses about 25. ``load_binding()`` registers the package as a bare module
(its ``__path__`` set, its ``__init__`` never run), so each later
``import cdktf_cdktf_provider_azurerm.<submodule>`` loads that submodule and
the jsii assembly only. Every submodule is self-contained (it imports
``.._jsii`` and nothing else from the package), which is what makes this
safe; tests/stacks/test_binding_loader.py proves the synthesized JSON is
byte-identical to the stock import.

Which packages get this depends on the lane (stacks/framework.py ``Lane.bare_packages`` and
``Lane.lazy_npm_packages``): cdktn's Python binding is lazy already, its npm index.js is not.

If the package layout ever changes so that the bare registration cannot work,
the stock import is used instead, with a one-line warning.

The Node side (the jsii kernel process) has the same problem: the binding's
``lib/index.js`` requires all ~1,530 JavaScript submodules when the assembly
loads. ``jsii_node_environment()`` returns the environment that makes the
kernel preload ``lazy_binding_hook.cjs`` (through ``NODE_OPTIONS``), which turns
those requires into getters, and that puts a project-local Node first on
``PATH`` when the Makefile installed one (the machine's Node is older than 22).
``main.py`` applies it before the kernel starts; the hook falls back to the
stock load with one warning line if the file's layout changes.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from stacks.framework import LANES

# The default lane's bindings loaded lazily (each lane lists its own: stacks/framework.py).
BARE_PACKAGES: tuple[str, ...] = LANES["cdktf"].bare_packages
LAZY_NPM_PACKAGES: tuple[str, ...] = LANES["cdktf"].lazy_npm_packages
BINDING_PACKAGE = "cdktf_cdktf_provider_azurerm"
LoadMode = Literal["fast", "stock"]
LOAD_MODES: tuple[LoadMode, ...] = ("fast", "stock")
NODE_HOOK = Path(__file__).resolve().with_name("lazy_binding_hook.cjs")
# Where the Makefile puts Node 24 (npm package `node`) when the machine's Node is older than 22.
LOCAL_NODE_BIN = Path(__file__).resolve().parents[1] / ".tools" / "node" / "node_modules" / ".bin"


def _bare_module_problem(package: str) -> str | None:
    """Why the fast path cannot be used, or None when it can."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return f"{package} is not an importable package"
    locations = [Path(location) for location in spec.submodule_search_locations]
    if not any((location / "_jsii" / "__init__.py").is_file() for location in locations):
        return f"{package} has no _jsii submodule"
    return None


def load_binding(*, mode: LoadMode = "fast", package: str = BINDING_PACKAGE) -> LoadMode:
    """Make ``package`` importable; return which path was taken."""
    if package in sys.modules:
        return "fast" if getattr(sys.modules[package], "__bare_binding__", False) else "stock"
    problem = _bare_module_problem(package) if mode == "fast" else None
    if mode == "fast" and problem is None:
        spec = importlib.util.find_spec(package)
        assert spec is not None  # checked by _bare_module_problem
        module = importlib.util.module_from_spec(spec)  # created, not executed
        module.__bare_binding__ = True  # type: ignore[attr-defined]
        sys.modules[package] = module
        try:
            importlib.import_module(f"{package}._jsii")
            return "fast"
        except ImportError as error:
            del sys.modules[package]
            problem = f"loading {package}._jsii failed ({error})"
    if problem is not None:
        print(
            f"warning: fast azurerm binding import unavailable: {problem}; using the stock import (slower)",
            file=sys.stderr,
        )
    importlib.import_module(package)
    return "stock"


def load_bindings(*, mode: LoadMode = "fast", packages: Iterable[str] = BARE_PACKAGES) -> LoadMode:
    """Make every package in ``packages`` importable; "stock" if any of them took the stock path."""
    taken = [load_binding(mode=mode, package=package) for package in packages]
    return "fast" if all(path == "fast" for path in taken) else "stock"


def _node_require_option(hook: Path) -> str:
    # NODE_OPTIONS splits on spaces; double quotes keep a path with spaces whole.
    return f'--require="{hook}"' if " " in str(hook) else f"--require={hook}"


def jsii_node_environment(
    environ: Mapping[str, str],
    *,
    mode: LoadMode,
    npm_packages: Iterable[str] = LAZY_NPM_PACKAGES,
    local_node_bin: Path = LOCAL_NODE_BIN,
    hook: Path = NODE_HOOK,
) -> dict[str, str]:
    """The variables to set before the jsii kernel process starts (it inherits them)."""
    updates: dict[str, str] = {}
    path = environ.get("PATH", "")
    if (local_node_bin / "node").is_file() and path.split(os.pathsep)[0] != str(local_node_bin):
        updates["PATH"] = f"{local_node_bin}{os.pathsep}{path}" if path else str(local_node_bin)
    require = _node_require_option(hook)
    options = [option for option in environ.get("NODE_OPTIONS", "").split(" ") if option and option != require]
    lazy_packages = list(npm_packages) if mode == "fast" else []
    lazy = bool(lazy_packages)
    if lazy:
        options.append(require)
    updates["NODE_OPTIONS"] = " ".join(options)
    updates["CDKTF_LAZY_BINDINGS"] = ",".join(lazy_packages)
    return updates
