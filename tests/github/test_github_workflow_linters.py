"""actionlint and zizmor (offline) report nothing on our workflows, and do catch real defects."""

from __future__ import annotations

import re
from pathlib import Path

from tests.github.workflow_files import (
    ACTION_FILES,
    GITHUB_DIR,
    REPO,
    WORKFLOW_FILES,
    declared_label_finding,
    run_actionlint,
    run_zizmor,
)

# Each defect is one that the linters exist to catch; the controls prove they really ran.
DEFECTIVE_WORKFLOW = """\
name: defective
on: pull_request_target
permissions: write-all
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
      - run: echo "${{ steps.nowhere.outputs.value }}"
"""
IGNORE_COMMENT = re.compile(r"#\s*zizmor:\s*ignore\[(?P<audits>[^\]]+)\]")


def _defective_repo(tmp_path: Path) -> Path:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "defective.yml").write_text(DEFECTIVE_WORKFLOW, encoding="utf-8")
    return tmp_path


def test_there_are_workflows_and_actions_to_check() -> None:
    assert [path.name for path in WORKFLOW_FILES] == ["pull-request.yml"]
    assert [path.parent.name for path in ACTION_FILES] == ["setup-toolchain"]


def test_actionlint_reports_nothing() -> None:
    clean, output = run_actionlint(WORKFLOW_FILES, cwd=REPO)
    assert clean, output


def test_only_declared_self_hosted_labels_are_accepted() -> None:
    finding = (
        '.github/workflows/pull-request.yml:90:21 label "arc-plan-prod" is unknown. available labels are '
        '"ubuntu-24.04". if it is a custom label for self-hosted runner, set list of labels in '
        "actionlint.yaml config file [ runner-label ]"
    )
    assert declared_label_finding(finding, ["arc-plan-prod"])
    assert not declared_label_finding(finding.replace("arc-plan-prod", "arc-plan-typo"), ["arc-plan-prod"])
    assert not declared_label_finding('.github/workflows/x.yml:1:1 property "y" is not defined [expression]', ["y"])


def test_actionlint_catches_an_undefined_step_output(tmp_path: Path) -> None:
    repo = _defective_repo(tmp_path)
    clean, output = run_actionlint(sorted((repo / ".github" / "workflows").glob("*.yml")), cwd=repo)
    assert not clean
    assert "nowhere" in output


def test_zizmor_offline_reports_nothing() -> None:
    findings = run_zizmor(GITHUB_DIR)
    assert [(finding["ident"], finding["desc"]) for finding in findings] == []


def test_zizmor_offline_catches_the_classic_pull_request_mistakes(tmp_path: Path) -> None:
    idents = {finding["ident"] for finding in run_zizmor(_defective_repo(tmp_path))}
    assert {"dangerous-triggers", "template-injection", "unpinned-uses", "excessive-permissions"} <= idents


def test_every_zizmor_ignore_is_reasoned_in_the_comment_above() -> None:
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if IGNORE_COMMENT.search(line):
                above = lines[number - 1].strip()
                assert above.startswith("#") and len(above) > 20, f"{path.name}:{number + 1}: ignore without a reason"
