"""Security and wiring properties of the pull-request workflow that the linters do not enforce."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stacks.config import parse_environment_toml
from stacks.naming import (
    GITHUB_HOSTED_RUNNER,
    GITHUB_TENANT_VARIABLE,
    github_client_id_variable,
    github_plan_runner,
    github_subscription_variable,
)
from tests.github.workflow_files import (
    ACTION_FILES,
    GITHUB_DIR,
    REPO,
    WORKFLOW_FILES,
    load_yaml,
    triggers,
    uses_lines,
)

PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"^v\d+\.\d+\.\d+$")
WORKFLOW = load_yaml(REPO / ".github" / "workflows" / "pull-request.yml")
WORKFLOW_TEXT = (REPO / ".github" / "workflows" / "pull-request.yml").read_text(encoding="utf-8")
JOBS: dict[str, dict[str, Any]] = WORKFLOW["jobs"]
# Jobs that may hold an Azure token: exactly those that log in to Azure.
PLAN_JOBS = [name for name, job in JOBS.items() if any("azure/login@" in step.get("uses", "") for step in job["steps"])]


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps = job["steps"]
    assert isinstance(steps, list)
    return steps


def _runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in _steps(job) if "run" in step]


def test_every_action_is_pinned_to_a_commit_with_its_version_alongside() -> None:
    versions: dict[str, set[tuple[str, str]]] = {}
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        for number, ref, comment in uses_lines(path):
            if ref.startswith("./"):
                continue
            match = PINNED.match(ref)
            assert match, f"{path.name}:{number}: {ref} is not pinned to a full commit SHA"
            assert VERSION_COMMENT.match(comment.split()[0] if comment else ""), (
                f"{path.name}:{number}: {ref} needs a `# vX.Y.Z` comment naming the pinned release"
            )
            versions.setdefault(match["action"], set()).add((match["sha"], comment.split()[0]))
    assert versions, "no third-party actions found"
    for action, pins in versions.items():
        assert len(pins) == 1, f"{action} is pinned to different commits: {sorted(pins)}"


def test_every_pin_is_recorded_with_its_provenance_in_the_docs() -> None:
    docs = (REPO / "docs" / "github_ci.md").read_text(encoding="utf-8")
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        for number, ref, comment in uses_lines(path):
            if not ref.startswith("./"):
                row = f"| `{ref.split('@')[0]}` | {comment.split()[0]} | `{ref.split('@')[1]}` |"
                assert row in docs, f"{path.name}:{number}: docs/github_ci.md lacks the row {row}"


def test_no_trigger_runs_untrusted_code_with_repository_privileges() -> None:
    events = set(triggers(WORKFLOW))
    assert events == {"pull_request", "push"}
    assert triggers(WORKFLOW)["push"] == {"branches": ["main"]}


def test_permissions_are_empty_by_default_and_least_per_job() -> None:
    assert WORKFLOW["permissions"] == {}
    for name, job in JOBS.items():
        expected = {"contents": "read", "id-token": "write"} if name in PLAN_JOBS else {"contents": "read"}
        assert job.get("permissions") == expected, f"job {name}"


def test_no_stored_secrets_are_used() -> None:
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        text = path.read_text(encoding="utf-8")
        assert "secrets." not in text, path.name
        assert "client-secret" not in text and "ARM_CLIENT_SECRET" not in text and "ARM_ACCESS_KEY" not in text


def test_checkouts_do_not_persist_the_token() -> None:
    checkouts = [step for job in JOBS.values() for step in _steps(job) if "actions/checkout@" in step.get("uses", "")]
    assert len(checkouts) == len(JOBS)
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_scripts_are_strict_and_never_interpolate_expressions() -> None:
    assert "-euo pipefail" in WORKFLOW["defaults"]["run"]["shell"]
    for name, job in JOBS.items():
        for script in _runs(job):
            assert "${{" not in script, f"job {name}: pass expressions through env:, not into run: ({script!r})"
    for path in ACTION_FILES:
        for step in load_yaml(path)["runs"]["steps"]:
            if "run" in step:
                assert "-euo pipefail" in step["shell"] and "${{" not in step["run"], path


def test_the_checks_job_runs_the_project_gates_in_order_and_publishes_the_stacks() -> None:
    steps = _steps(JOBS["checks"])
    runs = _runs(JOBS["checks"])
    assert runs == ["make lint", "make test", "make synth ENV=dev,prod", "make policy", "make policy LANE=cdktn"]
    upload = next(step for step in steps if "actions/upload-artifact@" in step.get("uses", ""))
    assert upload["with"]["path"].rstrip("/") == "cdktf.out/stacks"
    assert upload["with"]["if-no-files-found"] == "error"
    assert steps.index(upload) > next(i for i, step in enumerate(steps) if step.get("run", "").startswith("make synth"))


def test_argo_manifests_job_fails_on_drift_through_make() -> None:
    assert _runs(JOBS["argo-manifests"]) == ["make argo-check"]


def test_installs_are_cached_on_the_lock_files() -> None:
    action = load_yaml(GITHUB_DIR / "actions" / "setup-toolchain" / "action.yml")
    steps = action["runs"]["steps"]
    cache = next(step for step in steps if "actions/cache@" in step.get("uses", ""))
    assert "hashFiles('Pipfile.lock'" in cache["with"]["key"]
    assert ".venv" in cache["with"]["path"].split()
    node = next(step for step in steps if "actions/setup-node@" in step.get("uses", ""))
    assert node["with"]["cache"] == "npm" and node["with"]["cache-dependency-path"] == "package-lock.json"
    assert steps[-1]["run"] == "make install"


@pytest.mark.parametrize("job_name", PLAN_JOBS)
def test_plans_cover_every_environment_never_race_and_skip_forks(job_name: str) -> None:
    job = JOBS[job_name]
    environments = {entry["env"] for entry in job["strategy"]["matrix"]["include"]}
    assert environments == {path.stem for path in (REPO / "config").glob("*.toml")}
    assert job["concurrency"] == {"group": "terraform-plan-${{ matrix.env }}", "cancel-in-progress": False}
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert job["needs"] == "checks"


def variables_used(text: str) -> set[str]:
    return set(re.findall(r"\bvars\.([A-Za-z0-9_]+)", text))


def test_variables_used_finds_every_variable_reference() -> None:
    text = "a: ${{ vars.AZURE_TENANT_ID }}\nb: ${{ vars.OTHER_ID }} c: ${{ env.NOT_A_VAR }}"
    assert variables_used(text) == {"AZURE_TENANT_ID", "OTHER_ID"}


@pytest.mark.parametrize("job_name", PLAN_JOBS)
def test_remote_state_plans_run_inside_the_runner_vnet(job_name: str) -> None:
    """docs/access.md, "Remote state": the state account is private, so a remote-state environment's
    plan runs on its in-cluster runner scale set; the others stay GitHub-hosted."""
    job = JOBS[job_name]
    assert job["runs-on"] == "${{ matrix.runner }}"
    runners = {entry["env"]: entry["runner"] for entry in job["strategy"]["matrix"]["include"]}
    expected = {}
    for path in sorted((REPO / "config").glob("*.toml")):
        config = parse_environment_toml(path.read_text(encoding="utf-8"), source=path.name, expected_name=path.stem)
        expected[path.stem] = github_plan_runner(path.stem, remote_state=config.backend.type == "azurerm")
    assert runners == expected
    assert expected["prod"] == "arc-plan-prod" and expected["dev"] == GITHUB_HOSTED_RUNNER
    # actionlint knows exactly these self-hosted labels (a typo in either place fails here)
    labels = load_yaml(GITHUB_DIR / "actionlint.yaml")["self-hosted-runner"]["labels"]
    assert sorted(labels) == sorted(label for label in expected.values() if label != GITHUB_HOSTED_RUNNER)


@pytest.mark.parametrize("job_name", PLAN_JOBS)
def test_plans_authenticate_by_oidc_with_ids_from_variables(job_name: str) -> None:
    job = JOBS[job_name]
    env = job["env"]
    assert env["ARM_USE_OIDC"] == "true" and env["ARM_USE_AZUREAD"] == "true"
    # Variable names come from stacks/naming.py, which also names them in the access stack's outputs.
    assert env["ARM_TENANT_ID"] == f"${{{{ vars.{GITHUB_TENANT_VARIABLE} }}}}"
    expected_variables = {GITHUB_TENANT_VARIABLE}
    for entry in job["strategy"]["matrix"]["include"]:
        client, subscription = github_client_id_variable(entry["env"]), github_subscription_variable(entry["env"])
        assert entry["client-id"] == f"${{{{ vars.{client} }}}}"
        assert entry["subscription-id"] == f"${{{{ vars.{subscription} }}}}"
        expected_variables |= {client, subscription}
    assert variables_used(WORKFLOW_TEXT) == expected_variables
    login = next(step for step in _steps(job) if "azure/login@" in step.get("uses", ""))
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
    steps = _steps(job)
    plan = next(step for step in steps if step.get("run", "").startswith("make plan"))
    assert steps.index(login) < steps.index(plan)
    assert login["if"] == plan["if"] == "steps.backend.outputs.remote == 'true'"


def test_every_make_target_the_ci_calls_is_defined() -> None:
    makefiles = [REPO / "Makefile", *sorted((REPO / "mk").glob("*.mk"))]
    rule = re.compile(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", re.MULTILINE)
    defined = {target for path in makefiles for target in rule.findall(path.read_text(encoding="utf-8"))}
    scripts = [script for job in JOBS.values() for script in _runs(job)]
    scripts += [step["run"] for path in ACTION_FILES for step in load_yaml(path)["runs"]["steps"] if "run" in step]
    called = {script.split()[1] for script in scripts if script.startswith("make ")}
    assert called == {"install", "lint", "test", "synth", "policy", "argo-check", "plan"}
    assert called - defined == set(), "the workflow calls make targets that no Makefile defines"


def test_the_plan_script_plans_the_pipeline_stacks_in_order() -> None:
    """The access stack is applied by an Owner only; the plan covers what the pipelines apply."""
    from stacks.naming import PIPELINE_STACK_KINDS

    script = (GITHUB_DIR / "scripts" / "terraform-plan.sh").read_text(encoding="utf-8")
    (line,) = [line for line in script.splitlines() if line.startswith("stacks=(")]
    assert re.findall(r'"([a-z]+)-\$\{env_name\}"', line) == list(PIPELINE_STACK_KINDS)


def test_the_documented_runner_network_policy_is_valid_and_isolating() -> None:
    """docs/github_ci.md: the plan runners' namespace accepts nothing and reaches no pod but DNS."""
    import kubernetes_validate
    import yaml

    from pipelines.validate import KUBERNETES_VERSION

    text = (REPO / "docs" / "github_ci.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "kind: NetworkPolicy" in b]
    policy = yaml.safe_load(
        re.sub(r"(?m)^   ", "", block).replace("<pod CIDR>", "10.244.0.0/16").replace("<service CIDR>", "10.0.0.0/16")
    )
    kubernetes_validate.validate(policy, KUBERNETES_VERSION, strict=True)
    spec = policy["spec"]
    assert policy["metadata"]["namespace"] == github_plan_runner("prod", remote_state=True)
    assert spec["podSelector"] == {} and spec["policyTypes"] == ["Ingress", "Egress"] and spec["ingress"] == []
    dns, outside = spec["egress"]
    assert dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert {p["port"] for p in dns["ports"]} == {53}
    assert outside["to"][0]["ipBlock"]["except"] == ["10.244.0.0/16", "10.0.0.0/16"]
