"""Compile the installed Python packages to bytecode once, at install time.

    python mk/compile_bytecode.py synth   # what `make synth` imports (both CDK lanes)
    python mk/compile_bytecode.py all     # every installed package but the two full bindings

uv installs without bytecode ("uv does not compile Python (.py) files to bytecode
(__pycache__/*.pyc); instead, compilation is performed lazily the first time a
module is imported", docs.astral.sh/uv/reference/cli/#uv-pip-sync, --compile-bytecode).
Where nothing may write it lazily (PYTHONDONTWRITEBYTECODE=1, a read-only
environment), every process compiles what it imports again: 7 MB of source (1-2 CPU s)
per synth, 5-6 CPU s per process that imports azure-ai-ml and pandas (every test
worker and data_bootstrap subprocess). uv's own --compile-bytecode would also compile
the two prebuilt azurerm bindings in full (1,530 generated submodules, 130 MB of
source each), of which a synth imports about 25 (stacks/binding_loader.py), so this
compiles those submodules only. Standard library only besides the project's lane list.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stacks.framework import BINDING_CLASSES, LANES  # noqa: E402  (after the path above)

# What main.py imports besides the lanes' frameworks and bindings (its runtime closure,
# listed from sys.modules after a synth of each lane).
SYNTH_RUNTIME = (
    "attr", "attrs", "cattr", "cattrs", "constructs", "dateutil", "jsii", "mypy_extensions",
    "publication", "six", "sqlglot", "typeguard", "typing_extensions",
)  # fmt: skip
REPO_PACKAGES = ("stacks", "policy", "pipelines", "data_bootstrap", "benchmarks", "mutation")


def _location(module: str) -> Path | None:
    """The package folder or module file of an installed top-level module (None if not installed)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin)
    return origin.parent if spec.submodule_search_locations else origin


def binding_roots() -> list[Path]:
    return [path for lane in LANES.values() for package in lane.bindings.values() if (path := _location(package))]


def synth_targets() -> list[Path]:
    """Every file or folder a synth of either lane imports."""
    targets = [path for name in SYNTH_RUNTIME if (path := _location(name))]
    targets += [path for lane in LANES.values() if (path := _location(lane.framework))]
    for lane in LANES.values():
        for provider, package in lane.bindings.items():
            root = _location(package)
            if root is None:
                continue
            used = {key.split(".", 1)[1] for key in BINDING_CLASSES if key.startswith(f"{provider}.")}
            targets += [root / "__init__.py", root / "_jsii", *(root / name for name in sorted(used))]
    return [*targets, REPO / "main.py", REPO / "stacks"]


def compile_paths(paths: list[Path], *, skip: re.Pattern[str] | None = None) -> bool:
    ok = True
    for path in paths:
        if path.is_dir():
            ok &= bool(compileall.compile_dir(path, quiet=1, workers=0, rx=skip))
        elif path.is_file():
            ok &= bool(compileall.compile_file(path, quiet=1))
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("scope", choices=("synth", "all"))
    args = parser.parse_args(argv)
    ok = compile_paths(synth_targets())
    if args.scope == "all":
        bindings = "|".join(re.escape(str(root)) for root in binding_roots())
        site_packages = [Path(path) for path in sys.path if path.endswith("site-packages")]
        repo = [REPO / name for name in REPO_PACKAGES]
        ok &= compile_paths(site_packages + repo, skip=re.compile(f"^({bindings})/") if bindings else None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
