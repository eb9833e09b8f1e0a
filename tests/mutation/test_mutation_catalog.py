"""The curated mutation list stays applicable to the current code (``make mutation`` runs it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mutation.catalog import AREAS, CatalogError, Mutation, check_applicable, load_catalog
from mutation.runner import Outcome, judge, make_scratch

REPO = Path(__file__).resolve().parents[2]


def test_every_mutation_applies_to_exactly_one_place_and_names_existing_tests() -> None:
    mutations = load_catalog()
    check_applicable(mutations, REPO)
    assert len(mutations) >= 50
    assert {mutation.area for mutation in mutations} == set(AREAS)


def _mutation(**overrides: str) -> Mutation:
    fields = {
        "id": "probe",
        "area": "stacks",
        "file": "stacks/naming.py",
        "find": 'NETWORK = "network"',
        "replace": 'NETWORK = "net"',
        "reason": "probe",
    }
    fields.update(overrides)
    return Mutation(**fields, tests=("tests/stacks/test_config_errors.py",))


def test_a_find_text_that_no_longer_matches_is_a_clear_error() -> None:
    with pytest.raises(CatalogError, match=re.escape("occurs 0 times in stacks/naming.py")):
        _mutation(find="NETWORK = 'gone'").apply((REPO / "stacks/naming.py").read_text())


def test_judge_tells_killed_from_survived_and_restores_the_file(tmp_path: Path) -> None:
    scratch = make_scratch(REPO, tmp_path)
    original = (scratch / "stacks/config.py").read_bytes()
    # Breaking the storage naming rule is seen by the config error tests; a comment change is not.
    killed = judge(
        _mutation(file="stacks/config.py", find=r'r"[a-z0-9]{3,24}"', replace=r'r"[a-z0-9]{3,99}"'),
        scratch,
        timeout=120,
    )
    survived = judge(
        _mutation(file="stacks/config.py", find="# --- errors ---", replace="# --- errors (mutated) ---"),
        scratch,
        timeout=120,
    )
    assert isinstance(killed, Outcome)
    assert (killed.verdict, survived.verdict) == ("killed", "survived")
    assert killed.killer.startswith("tests/stacks/test_config_errors.py::")
    assert (scratch / "stacks/config.py").read_bytes() == original
