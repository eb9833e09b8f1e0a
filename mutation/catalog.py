"""The curated mutation list (``mutation/mutations.toml``): parsing and applicability checks.

A mutation is one exact text replacement in one file, with a one-line reason and the test
paths that are expected to kill it. The text to replace must occur exactly once, so a later
change to the code either keeps the mutation meaningful or makes the catalog fail loudly.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

CATALOG = Path(__file__).resolve().parent / "mutations.toml"
AREAS = ("stacks", "policy", "data_bootstrap", "pipelines")
_ID = re.compile(r"[a-z0-9][a-z0-9-]{2,79}")


class CatalogError(ValueError):
    """A mistake in the catalog, as one line: where, what, how to fix."""


@dataclass(frozen=True, kw_only=True)
class Mutation:
    id: str
    area: str
    file: str
    find: str
    replace: str
    reason: str
    tests: tuple[str, ...]

    def apply(self, text: str) -> str:
        """``text`` with the mutation applied; the find text must occur exactly once."""
        count = text.count(self.find)
        if count != 1:
            raise CatalogError(
                f"{CATALOG.name}: mutation {self.id!r}: the text to replace occurs {count} times in {self.file}; "
                "fix: make 'find' match exactly one place of the current code"
            )
        return text.replace(self.find, self.replace)


_KEYS = {"id", "area", "file", "find", "replace", "reason", "tests"}


def _mutation(entry: object, index: int) -> Mutation:
    where = f"{CATALOG.name}: mutation #{index + 1}"
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: must be a table; fix: write it as [[mutation]]")
    missing, unknown = _KEYS - entry.keys(), entry.keys() - _KEYS
    if missing or unknown:
        raise CatalogError(
            f"{where}: missing {sorted(missing)} / unknown {sorted(unknown)}; fix: use exactly {sorted(_KEYS)}"
        )
    tests = entry["tests"]
    if not isinstance(tests, list) or not tests or not all(isinstance(t, str) and t for t in tests):
        raise CatalogError(f"{where}: tests must be a non-empty list of test paths; fix: name the killing tests")
    text_keys = ("id", "area", "file", "find", "replace", "reason")
    if not all(isinstance(entry[key], str) and entry[key] for key in text_keys):
        raise CatalogError(f"{where}: {', '.join(text_keys)} must be non-empty strings; fix: fill them in")
    if not _ID.fullmatch(entry["id"]):
        raise CatalogError(f"{where}: id {entry['id']!r} is not lowercase-kebab; fix: use a name like 'storage-tls'")
    if entry["area"] not in AREAS:
        raise CatalogError(f"{where}: area {entry['area']!r} unknown; fix: use one of {', '.join(AREAS)}")
    if entry["find"] == entry["replace"]:
        raise CatalogError(f"{where}: find and replace are equal; fix: change the code in the mutation")
    if any("test_snapshots" in test for test in tests):
        raise CatalogError(f"{where}: a snapshot test cannot be the killer; fix: name a property test")
    return Mutation(**{key: entry[key] for key in text_keys}, tests=tuple(tests))


def load_catalog(path: Path = CATALOG) -> list[Mutation]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path.name}: not valid TOML ({error}); fix: the syntax at that line") from error
    mutations = [_mutation(entry, index) for index, entry in enumerate(data.get("mutation", []))]
    seen: set[str] = set()
    for mutation in mutations:
        if mutation.id in seen:
            raise CatalogError(f"{path.name}: mutation id {mutation.id!r} is used twice; fix: rename one")
        seen.add(mutation.id)
    return mutations


def check_applicable(mutations: list[Mutation], repo: Path) -> None:
    """Every mutation applies to the current tree and names existing test paths."""
    for mutation in mutations:
        source = repo / mutation.file
        if not source.is_file():
            raise CatalogError(f"{CATALOG.name}: mutation {mutation.id!r}: no file {mutation.file}; fix: the path")
        mutation.apply(source.read_text(encoding="utf-8"))
        for test in mutation.tests:
            if not (repo / test.split("::")[0]).exists():
                raise CatalogError(
                    f"{CATALOG.name}: mutation {mutation.id!r}: no test path {test}; fix: name an existing test"
                )
