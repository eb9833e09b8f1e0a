"""Pipfile.lock -> requirements/lock.txt: the hash-pinned set `make` installs with uv.

    python mk/lock_export.py            # write requirements/lock.txt
    python mk/lock_export.py --check    # exit 1 if it is stale (Pipfile.lock changed since)

Pipfile and Pipfile.lock stay the source of truth (pipenv users keep working);
this is the same content as `pipenv requirements --dev --hash`, without pipenv:
every package of the lock (default and develop), its exact version, markers and
all its hashes, so `uv pip sync --require-hashes` installs exactly that set.
Standard library only: it runs before any environment exists.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "Pipfile.lock"
EXPORT = REPO / "requirements" / "lock.txt"
HEADER = (
    "# Generated from Pipfile.lock by `make lock-export` (mk/lock_export.py); do not edit.\n"
    "# Installed with `uv pip sync --require-hashes` by `make`; a test fails when it is stale.\n"
)


def _requirement(name: str, entry: dict[str, Any]) -> str:
    if "version" not in entry or not entry.get("hashes"):
        raise ValueError(f"Pipfile.lock: {name}: only pinned index packages with hashes can be exported")
    extras = f"[{','.join(sorted(entry['extras']))}]" if entry.get("extras") else ""
    markers = f" ; {entry['markers']}" if entry.get("markers") else ""
    hashes = "".join(f" \\\n    --hash={digest}" for digest in sorted(entry["hashes"]))
    return f"{name}{extras}{entry['version']}{markers}{hashes}\n"


def export(lock: dict[str, Any]) -> str:
    merged: dict[str, dict[str, Any]] = {}
    for group in ("default", "develop"):
        for name, entry in lock.get(group, {}).items():
            known = merged.get(name)
            if known is not None and known.get("version") != entry.get("version"):
                versions = f"{known['version']}, {entry['version']}"
                raise ValueError(f"Pipfile.lock: {name} is locked at two versions ({versions})")
            if known is not None:  # in both groups: union of extras, same pin
                entry = {**entry, "extras": sorted(set(known.get("extras", [])) | set(entry.get("extras", [])))}
            merged[name] = entry
    return HEADER + "".join(_requirement(name, merged[name]) for name in sorted(merged))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the export differs from Pipfile.lock")
    args = parser.parse_args(argv)
    try:
        expected = export(json.loads(LOCK.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    current = EXPORT.read_text(encoding="utf-8") if EXPORT.is_file() else ""
    if args.check:
        if current != expected:
            print(
                f"error: {EXPORT.relative_to(REPO)} is stale: Pipfile.lock changed since it was exported; "
                "fix: run `make lock-export` and commit the result",
                file=sys.stderr,
            )
            return 1
        return 0
    EXPORT.parent.mkdir(exist_ok=True)
    EXPORT.write_text(expected, encoding="utf-8")
    packages = sum(1 for line in expected.splitlines() if line and not line.startswith((" ", "#")))
    print(f"wrote {EXPORT.relative_to(REPO)} ({packages} packages from Pipfile.lock)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
