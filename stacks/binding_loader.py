"""Fast loading of the prebuilt azurerm binding.

``import cdktf_cdktf_provider_azurerm.<anything>`` first runs the package
``__init__``, which imports all ~1,530 resource submodules (9-17 s) although a
stack uses about 25. ``load_binding()`` registers the package as a bare module
(its ``__path__`` set, its ``__init__`` never run), so each later
``import cdktf_cdktf_provider_azurerm.<submodule>`` loads that submodule and
the jsii assembly only. Every submodule is self-contained (it imports
``.._jsii`` and nothing else from the package), which is what makes this
safe; tests/test_binding_loader.py proves the synthesized JSON is
byte-identical to the stock import.

If the package layout ever changes so that the bare registration cannot work,
the stock import is used instead, with a one-line warning.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Literal

BINDING_PACKAGE = "cdktf_cdktf_provider_azurerm"
LoadMode = Literal["fast", "stock"]


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
