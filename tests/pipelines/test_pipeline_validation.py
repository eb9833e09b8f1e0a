"""Offline validation: the committed bundle passes; each known bug class is caught, clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines import validate
from pipelines.argo_render import OUT_DIR
from pipelines.schemas import strict
from pipelines.settings import REPO_ROOT
from pipelines.workflow_checks import image_problem

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_committed_bundle_has_no_problems() -> None:
    assert validate.validate([OUT_DIR]) == []


def test_the_baseline_fixture_is_valid() -> None:
    """The bug fixtures depart from this one, so each is caught for its own bug only."""
    assert validate.validate([FIXTURES / "valid.yaml"]) == []


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("unquoted_template.yaml", "unquoted_template.yaml:11: unquoted '{{...}}' starts a YAML mapping"),
        ("invalid_image.yaml", "image 'repo:terraform:1.0.0' is not a valid reference"),
        ("volumes_under_inputs.yaml", ".spec.templates[0].inputs: Additional properties are not allowed ('volumes'"),
        ("unproduced_artifact.yaml", "task plan produces no output artifact 'tfplan'"),
        ("moved_plan.yaml", "saved at /tmp/stack by task plan but restored at /workspace/stack"),
        ("missing_secret.yaml", "Secret 'git-credentials' is not created by this bundle"),
        ("role_typo.yaml", "Additional properties are not allowed ('resource' was unexpected)"),
        # Issue 14: one fixture per class, each caught by its own rule only.
        ("eso_tenant_twice.yaml", "ESO refuses both ('multiple tenantID found')"),
        ("suspend_extra_input.yaml", "input 'stack' is no supplied output"),
        ("approval_unguarded.yaml", "when reads approve's 'decision' without a fallback"),
        ("approval_no_default.yaml", "supplied output 'decision' has no valueFrom.default"),
        ("no_artifact_repository.yaml", "no artifactRepositoryRef names where they go"),
        ("image_parameter.yaml", "image '{{workflow.parameters.image}}' is not a literal pinned by digest"),
        ("named_apply.yaml", "runs terraform apply as a named template, which a submitter can start with --entrypoint"),
        ("lax_controller.yaml", "templateReferencing is not Secure"),
        ("plan_as_apply_identity.yaml", "plans or synthesizes as apply, the apply identity"),
        ("synth_with_token.yaml", "runs the checked-out code with plan's Azure token"),
        ("apply_unverified.yaml", "applies a plan without checking its sha256"),
        ("submit_and_approve_role.yaml", "one Role both creates workflows and updates them"),
        ("no_mutex.yaml", "applies without synchronization.mutexes"),
        ("floating_checkouts.yaml", "templates step, other-step each clone a workflow parameter revision"),
        ("default_payload.yaml", "spec.github.push: no maxPayloadSize"),
        ("retried_locking_plan.yaml", "retries a plan that takes the state lock"),
        ("root_event_source.yaml", ".spec.template.securityContext: runs as root"),
        ("deletion_trigger.yaml", "dependency push: no data filter drops branch deletions"),
    ],
)
def test_each_bug_class_is_caught_alone(fixture: str, expected: str) -> None:
    problems = validate.validate([FIXTURES / fixture])
    assert len(problems) == 1, problems
    assert expected in problems[0]
    assert "fix" in problems[0] or "not allowed" in problems[0]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("client_secret.yaml", ["literal value", "client credential", "Entra client secret"]),
        ("pasted_shell.yaml", ["pasted into a shell script", "retries a terraform apply"]),
    ],
)
def test_hygiene_rules(fixture: str, expected: list[str]) -> None:
    problems = validate.validate([FIXTURES / fixture])
    assert len(problems) == len(expected), problems
    for problem, words in zip(problems, expected, strict=True):
        assert words in problem


BASELINE = list(yaml.safe_load_all((FIXTURES / "valid.yaml").read_text(encoding="utf-8")))


def _baseline() -> dict[str, Any]:
    """A fresh copy of the baseline's WorkflowTemplate (its last document)."""
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(BASELINE[-1]))
    return copy


def _problems_of(doc: dict[str, Any], tmp_path: Path) -> list[str]:
    target = tmp_path / "mutated.yaml"
    target.write_text(yaml.safe_dump_all([*BASELINE[:-1], doc]), encoding="utf-8")
    return validate.validate([target])


def _apply_task(doc: dict[str, Any]) -> dict[str, Any]:
    task: dict[str, Any] = doc["spec"]["templates"][0]["dag"]["tasks"][2]
    assert task["name"] == "apply"
    return task


def test_input_artifact_nobody_supplies(tmp_path: Path) -> None:
    doc = _baseline()
    del _apply_task(doc)["arguments"]["artifacts"]
    assert _problems_of(doc, tmp_path) == [
        "mutated.yaml: WorkflowTemplate/fixture: template main: task apply: "
        "input artifact 'workdir' of template apply (inline) is consumed but nothing supplies it"
    ]


def test_inline_templates_are_checked_like_named_ones(tmp_path: Path) -> None:
    doc = _baseline()
    _apply_task(doc)["inline"]["container"]["env"][0]["value"] = "{{inputs.parameters.plan-hash}}"
    assert _problems_of(doc, tmp_path) == [
        "mutated.yaml: WorkflowTemplate/fixture: template main: task apply: "
        "{{inputs.parameters.plan-hash}} is not an input parameter of this template; "
        "fix: declare it under inputs.parameters"
    ]


def test_plain_references_to_outputs_that_are_always_set_are_fine(tmp_path: Path) -> None:
    doc = _baseline()
    _apply_task(doc)["when"] = "{{tasks.plan.outputs.parameters.plan-sha256}} != ''"
    assert _problems_of(doc, tmp_path) == [], "plan is no suspend: its outputs are always set"


def test_missing_entrypoint_template_and_parameter(tmp_path: Path) -> None:
    doc = _baseline()
    doc["spec"]["entrypoint"] = "deploy"
    doc["spec"]["templates"][0]["dag"]["tasks"][0]["template"] = "planning"
    _apply_task(doc)["inline"]["container"]["env"][0]["value"] = "{{workflow.parameters.image}}"
    problems = "\n".join(_problems_of(doc, tmp_path))
    assert "spec.entrypoint: 'deploy' names no template" in problems
    assert "task plan: template 'planning' does not exist" in problems
    assert "{{workflow.parameters.image}} is not a workflow parameter" in problems


def test_sensor_trigger_must_target_real_parameters(tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all((OUT_DIR / "40-events.yaml").read_text(encoding="utf-8")))
    others = [
        OUT_DIR / name for name in ("00-access.yaml", "10-external-secrets.yaml", "20-workflowtemplate-infra.yaml")
    ]
    k8s = docs[1]["spec"]["triggers"][0]["template"]["k8s"]
    k8s["parameters"][0]["dest"] = "spec.arguments.parameters.5.value"
    k8s["source"]["resource"]["spec"]["arguments"]["parameters"].append({"name": "environment", "value": "dev"})
    target = tmp_path / "40-events.yaml"
    target.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    problems = "\n".join(validate.validate([*others, target]))
    assert "parameter dest 'spec.arguments.parameters.5.value' is not a field of the resource" in problems
    assert "argument 'environment' is not a parameter of infra-prod" in problems


def test_strict_forbids_unknown_keys_through_definitions() -> None:
    schema: dict[str, Any] = {
        "definitions": {
            "a": {"type": "object", "properties": {"b": {"$ref": "#/definitions/b"}}},
            "b": {"type": "object", "properties": {"c": {"type": "string"}}},
            "open": {"type": "object", "properties": {"x": {}}, "x-kubernetes-preserve-unknown-fields": True},
            "map": {"type": "object", "additionalProperties": {"type": "string"}, "properties": {"y": {}}},
        }
    }
    made = strict(schema)["definitions"]
    assert made["a"]["additionalProperties"] is False and made["b"]["additionalProperties"] is False
    assert "additionalProperties" not in made["open"]
    assert made["map"]["additionalProperties"] == {"type": "string"}
    assert "additionalProperties" not in schema["definitions"]["a"], "the input is not modified"


@pytest.mark.parametrize(
    ("image", "fine"),
    [
        ("ghcr.io/globorealty/ml-platform-runner:1.0.0", True),
        ("ghcr.io/x/y@sha256:" + "0" * 64, True),
        ("localhost:5000/runner:1.2", True),
        ("python:3.11.11-slim-bookworm", True),
        ("repo:terraform:1.0.0", False),
        ("ghcr.io/x/runner", False),
        ("ghcr.io/x/runner:latest", False),
        ("Ghcr.io/X/Runner:1", False),
        ("ghcr.io/x/y@sha256:abc", False),
    ],
)
def test_image_references(image: str, fine: bool) -> None:
    assert (image_problem(image) is None) is fine


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.validate", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_cli_passes_the_bundle_and_fails_a_fixture() -> None:
    ok = _cli("pipelines/argo")
    assert ok.returncode == 0 and ok.stdout.startswith("ok:"), ok.stderr
    bad = _cli(str(FIXTURES / "moved_plan.yaml"))
    assert bad.returncode == 1
    assert bad.stdout.count("\n") == 1 and "restore it at the same absolute path" in bad.stdout


def test_cli_without_schemas_says_where_to_put_them(tmp_path: Path) -> None:
    result = _cli("pipelines/argo", env={"SHARED_SCHEMAS_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "SHARED_SCHEMAS_DIR" in result.stderr and "Traceback" not in result.stderr


# Fake values shaped like the real thing, assembled so no scanner mistakes this file for a leak.
SECRET_SHAPES = {
    "a PEM private key": "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEow",
    "a GitHub token": "gh" + "p_" + "A1b2C3d4" * 5,
    "a GitHub token (fine-grained)": "github" + "_pat_" + "11AB" * 10,
    "a JSON web token": "eyJ" + "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiIxMjM0NTY3ODkwIn0" + ".sig",
    "a storage key or SAS": "DefaultEndpointsProtocol=https;Account" + "Key=" + "A" * 20,
    "a storage key or SAS (signature)": "https://st.blob.core.windows.net/c?sv=2024&s" + "ig=" + "b" * 32,
}


@pytest.mark.parametrize("label", list(SECRET_SHAPES))
def test_each_secret_shape_is_caught_in_any_string(tmp_path: Path, label: str) -> None:
    doc = _baseline()
    doc["metadata"].setdefault("annotations", {})["note"] = SECRET_SHAPES[label]
    problems = _problems_of(doc, tmp_path)
    what = label.split(" (")[0]
    assert problems == [
        f"mutated.yaml: WorkflowTemplate/fixture: .metadata.annotations.note: looks like {what}; "
        "fix: keep it in Key Vault and reference it"
    ]


def test_an_object_defined_twice_is_a_problem(tmp_path: Path) -> None:
    doc = _baseline()
    target = tmp_path / "twice.yaml"
    target.write_text(yaml.safe_dump_all([*BASELINE[:-1], doc, doc]), encoding="utf-8")
    assert validate.validate([target]) == [
        "twice.yaml: WorkflowTemplate/fixture: defined twice; fix: give each object its own name"
    ]
