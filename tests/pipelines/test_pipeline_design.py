"""Design rules of the rendered pipelines that no schema expresses (docs/pipelines.md)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from pipelines.settings import CONFIG_DIR, load_environments, load_settings
from tests.pipelines.rendered import rendered_documents

STACK_KINDS = ("network", "mlplatform")
# The contract of issue 13 (stacks/naming.py), stated here independently of the renderer.
JOBS = ("infra-plan", "infra-apply", "data-bootstrap", "secrets-reader")
CONFIGS = load_environments(CONFIG_DIR)
PIPELINE_ENVS = [name for name, config in CONFIGS.items() if config.backend.type == "azurerm"]


def _bundle() -> dict[tuple[str, str], dict[str, Any]]:
    """The fresh render (the code under test); test_pipeline_render.py pins the committed files to it."""
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in rendered_documents()}


BUNDLE = _bundle()
INFRA = BUNDLE[("WorkflowTemplate", "infra-prod")]["spec"]
DATA = BUNDLE[("WorkflowTemplate", "data-bootstrap-prod")]["spec"]
IMAGE = load_settings().runner_image


def _templates(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {template["name"]: template for template in spec["templates"]}


def _tasks(spec: dict[str, Any], dag: str) -> dict[str, dict[str, Any]]:
    return {task["name"]: task for task in _templates(spec)[dag]["dag"]["tasks"]}


def _param(task: dict[str, Any], name: str) -> str:
    return next(str(p["value"]) for p in task["arguments"]["parameters"] if p["name"] == name)


def _containers(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every template that runs a container, inline ones named after their task."""
    found = {name: t for name, t in _templates(spec).items() if "container" in t}
    for template in spec["templates"]:
        for task in (template.get("dag") or {}).get("tasks") or []:
            if "inline" in task:
                found[task["name"]] = task["inline"]
    return found


def test_workload_accounts_are_exactly_one_per_job_and_pipeline_environment() -> None:
    identities = {
        (doc["metadata"]["namespace"], name)
        for (kind, name), doc in BUNDLE.items()
        if kind == "ServiceAccount" and "azure.workload.identity/client-id" in doc["metadata"].get("annotations", {})
    }
    assert PIPELINE_ENVS == ["prod"]
    assert identities == {(CONFIGS[env].runners.namespace, f"{job}-{env}") for job in JOBS for env in PIPELINE_ENVS}
    for _, name in identities:
        account = BUNDLE[("ServiceAccount", name)]
        assert account["automountServiceAccountToken"] is False, "no Kubernetes API token in workload pods"
        annotations = account["metadata"]["annotations"]
        assert annotations["azure.workload.identity/client-id"] != annotations["azure.workload.identity/tenant-id"]


@pytest.mark.parametrize("kind", STACK_KINDS)
def test_apply_runs_the_approved_plan_of_its_own_stack(kind: str) -> None:
    tasks = _tasks(INFRA, "deploy")
    plan, approve, apply = tasks[f"plan-{kind}"], tasks[f"approve-{kind}"], tasks[f"apply-{kind}"]
    assert approve["depends"] == f"plan-{kind}" and "arguments" not in approve
    assert apply["depends"] == f"approve-{kind}"
    assert apply["when"] == (
        f"{{{{=(tasks['approve-{kind}']?.outputs?.parameters?.decision ?? 'reject') == 'approve'}}}}"
    )
    assert apply["arguments"]["artifacts"] == [
        {"name": "workdir", "from": f"{{{{tasks.plan-{kind}.outputs.artifacts.workdir}}}}"}
    ]
    assert _param(apply, "plan-sha256") == f"{{{{tasks.plan-{kind}.outputs.parameters.plan-sha256}}}}"
    assert _param(apply, "state-serial") == f"{{{{tasks.plan-{kind}.outputs.parameters.state-serial}}}}"
    assert _param(plan, "stack") == _param(apply, "stack") == f"{kind}-prod"


def test_mlplatform_is_planned_only_after_network_is_applied() -> None:
    assert _tasks(INFRA, "deploy")["plan-mlplatform"]["depends"] == "apply-network.Succeeded"


def test_approval_takes_only_the_decision_and_defaults_to_reject_on_every_path() -> None:
    approval = _templates(INFRA)["approval"]
    assert approval["suspend"] == {"duration": "3h"}, "an unanswered approval times out to the default"
    (decision,) = approval["inputs"]["parameters"]
    assert decision["name"] == "decision" and decision["enum"] == ["approve", "reject"]
    assert decision["default"] == "reject"
    assert approval["outputs"]["parameters"] == [
        {"name": "decision", "valueFrom": {"default": "reject", "supplied": {}}}
    ]


def test_apply_cannot_be_chosen_as_an_entrypoint() -> None:
    named = _templates(INFRA)
    assert "apply" not in named
    appliers = [name for name, t in _containers(INFRA).items() if "apply -input=false" in t["container"]["args"][0]]
    assert appliers == ["apply-network", "apply-mlplatform"]
    assert {t["serviceAccountName"] for name, t in _containers(INFRA).items() if name in appliers} == {
        "infra-apply-prod"
    }


def test_identities_per_step() -> None:
    infra, data = _containers(INFRA), _containers(DATA)
    assert infra["plan"]["serviceAccountName"] == "infra-plan-prod"
    assert {t["serviceAccountName"] for t in data.values()} == {"data-bootstrap-prod"}
    for synth in (infra["synth"], data["synth"]):
        assert synth["metadata"]["annotations"] == {"azure.workload.identity/skip-containers": "main"}
    for spec in (INFRA, DATA):
        assert spec["automountServiceAccountToken"] is False
        assert spec["executor"] == {"serviceAccountName": "argo-executor"}


def test_plan_records_its_hash_and_ships_no_provider_binaries() -> None:
    script = _templates(INFRA)["plan"]["container"]["args"][0]
    assert "plan -input=false -lock=false -out=tfplan" in script
    assert 'sha256sum < "$STACK_DIR/tfplan" | cut -c1-64 > /tmp/plan/sha256' in script
    assert "plan sha256: $(cat /tmp/plan/sha256)" in script, "the approver sees the hash in plan-summary"
    assert script.rstrip().endswith('rm -rf "$STACK_DIR/.terraform"')
    outputs = {p["name"]: p["valueFrom"]["path"] for p in _templates(INFRA)["plan"]["outputs"]["parameters"]}
    assert outputs == {"plan-sha256": "/tmp/plan/sha256", "state-serial": "/tmp/plan/state-serial"}


def test_apply_checks_hash_then_serial_then_applies() -> None:
    script = _containers(INFRA)["apply-network"]["container"]["args"][0]
    steps = [
        'if [ "$actual" != "$PLAN_SHA256" ]',
        "init -input=false -lockfile=readonly",
        'if [ "$serial" != "$STATE_SERIAL" ]',
        "apply -input=false -lock-timeout=5m tfplan",
    ]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions)


def test_plan_only_entrypoint_never_applies() -> None:
    assert {task["template"] for task in _tasks(INFRA, "plan-only").values()} == {"synth", "plan"}


def test_one_run_per_pipeline_and_environment() -> None:
    assert INFRA["synchronization"] == {"mutexes": [{"name": "infra-prod"}]}
    assert DATA["synchronization"] == {"mutexes": [{"name": "data-bootstrap-prod"}]}


def test_artifacts_go_to_the_environments_container() -> None:
    config = load_environments(CONFIG_DIR)["prod"]
    for spec in (INFRA, DATA):
        assert spec["artifactRepositoryRef"] == {"configMap": "artifact-repositories", "key": "prod"}
    repository = yaml.safe_load(BUNDLE[("ConfigMap", "artifact-repositories")]["data"]["prod"])
    assert repository == {
        "azure": {
            "endpoint": f"https://{config.backend.storage_account_name}.blob.core.windows.net",
            "container": config.runners.artifact_container,
            "useSDKCreds": True,
        }
    }


def test_retries_only_on_transient_idempotent_steps() -> None:
    retried = {
        name for spec in (INFRA, DATA) for name, template in _containers(spec).items() if "retryStrategy" in template
    }
    assert retried == {"plan", "platform-outputs", "register", "verify"}


@pytest.mark.parametrize("spec", [INFRA, DATA], ids=["infra", "data"])
def test_pods_are_hardened_and_cleaned_up(spec: dict[str, Any]) -> None:
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 10001
    assert spec["podMetadata"]["labels"] == {"azure.workload.identity/use": "true"}
    assert 0 < spec["activeDeadlineSeconds"] <= 8 * 3600
    assert spec["podGC"]["strategy"] == "OnPodCompletion"
    assert spec["ttlStrategy"]["secondsAfterCompletion"] <= 86400
    assert spec["artifactGC"]["strategy"] == "OnWorkflowDeletion"
    assert spec["artifactGC"]["podMetadata"] == spec["podMetadata"], "GC pods need the identity to delete blobs"
    assert spec["arguments"]["parameters"] == [
        {"name": "revision", "description": "git commit or branch to check out", "value": "main"}
    ], "no image, environment or identity a submitter could choose"
    containers = _containers(spec)
    assert containers and all("script" not in t for t in spec["templates"])
    for template in containers.values():
        container = template["container"]
        assert container["image"] == IMAGE and "@sha256:" in IMAGE
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] and not context["allowPrivilegeEscalation"]
        assert context["runAsUser"] == 10001 and context["capabilities"]["drop"] == ["ALL"]
        assert context["runAsNonRoot"] is True, "each container refuses root on its own, too"
        assert container["resources"]["limits"]["memory"]


def test_data_steps_run_the_cli_in_order_on_one_commit() -> None:
    tasks = _tasks(DATA, "refresh")
    order = ["synth", "platform-outputs", "connection", "datastore", "import", "verify"]
    assert [tasks[name].get("depends") for name in order[1:]] == order[:-1]
    templates = _templates(DATA)
    commands = {name: templates[tasks[name]["template"]]["container"]["args"] for name in order[2:]}
    for name, args in commands.items():
        assert args[:3] == ["python", "-m", "data_bootstrap"], name
        assert args[4:8] == ["--env", "prod", "--outputs", "/tmp/outputs/outputs.json"]
        assert _param(tasks[name], "commit") == "{{tasks.synth.outputs.parameters.commit}}"
        git = templates[tasks[name]["template"]]["inputs"]["artifacts"][0]["git"]
        assert git["revision"] == "{{inputs.parameters.commit}}"
    assert _templates(DATA)["synth"]["inputs"]["artifacts"][0]["git"]["revision"] == "{{workflow.parameters.revision}}"
    assert [_param(tasks[name], "step") for name in ("connection", "datastore")] == ["connection", "datastore"]
    assert commands["import"][3] == "apply" and commands["import"][-2:] == ["--step", "import"]
    assert commands["verify"][3] == "verify" and commands["verify"][-2:] == ["--profile-dir", "/tmp/profile"]


def test_rbac_is_least_privilege_and_submit_is_not_approve() -> None:
    roles = {name: doc["rules"] for (kind, name), doc in BUNDLE.items() if kind == "Role"}
    verbs = {
        name: {verb for rule in rules if "workflows" in rule["resources"] for verb in rule["verbs"]}
        for name, rules in roles.items()
    }
    assert verbs["workflow-submitter"] == {"create", "get", "list", "watch"}
    assert verbs["workflow-approver"] == {"get", "list", "watch", "update", "patch"}
    assert verbs["infra-sensor"] == {"create"}
    assert not verbs["argo-executor"] and not verbs["artifact-gc"]
    settings = load_settings()
    groups = {"workflow-submitter": settings.submitters_group, "workflow-approver": settings.approvers_group}
    for role, group in groups.items():
        subjects = BUNDLE[("RoleBinding", role)]["subjects"]
        assert {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": group} in subjects
        annotations = BUNDLE[("ServiceAccount", role)]["metadata"]["annotations"]
        assert annotations["workflows.argoproj.io/rbac-rule"] == f"'{group}' in groups"
    assert settings.submitters_group != settings.approvers_group
    assert not any(kind.startswith("Cluster") for kind, _ in BUNDLE)


def test_controller_accounts_have_exactly_the_rules_argo_documents() -> None:
    """Stated here, not imported: the executor may only report task results (argo-workflows v4.1.2
    docs/workflow-rbac.md, "executor"), artifact GC only its tasks, the sensor only creates workflows."""
    roles = {name: doc["rules"] for (kind, name), doc in BUNDLE.items() if kind == "Role"}
    argo = "argoproj.io"
    assert roles["argo-executor"] == [
        {"apiGroups": [argo], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}
    ]
    assert roles["artifact-gc"] == [
        {"apiGroups": [argo], "resources": ["workflowartifactgctasks"], "verbs": ["list", "watch"]},
        {"apiGroups": [argo], "resources": ["workflowartifactgctasks/status"], "verbs": ["patch"]},
    ]
    assert roles["infra-sensor"] == [{"apiGroups": [argo], "resources": ["workflows"], "verbs": ["create"]}]


def test_only_token_secrets_are_rendered() -> None:
    secrets = {name: doc for (kind, name), doc in BUNDLE.items() if kind == "Secret"}
    owners = ("argo-executor", "workflow-submitter", "workflow-approver")
    assert set(secrets) == {f"{owner}.service-account-token" for owner in owners}
    assert all(doc["type"] == "kubernetes.io/service-account-token" and "data" not in doc for doc in secrets.values())


def test_controller_runs_only_unchanged_templates() -> None:
    config = BUNDLE[("ConfigMap", "workflow-controller-configmap")]
    assert yaml.safe_load(config["data"]["workflowRestrictions"]) == {"templateReferencing": "Secure"}


def test_sensor_submits_the_pushed_commit_of_the_push_environment() -> None:
    settings = load_settings()
    k8s = BUNDLE[("Sensor", "infra-on-push")]["spec"]["triggers"][0]["template"]["k8s"]
    workflow = k8s["source"]["resource"]
    assert k8s["operation"] == "create"
    assert workflow["spec"]["workflowTemplateRef"] == {"name": f"infra-{settings.push_environment}"}
    assert set(workflow["spec"]) == {"workflowTemplateRef", "arguments"}, "no entrypoint or other override"
    assert k8s["parameters"] == [
        {"src": {"dependencyName": "push", "dataKey": "body.after"}, "dest": "spec.arguments.parameters.0.value"}
    ]
    assert workflow["spec"]["arguments"]["parameters"][0]["name"] == "revision"


def test_event_source_verifies_signatures_and_takes_large_pushes() -> None:
    github = BUNDLE[("EventSource", "github")]["spec"]["github"]["push"]
    assert github["webhookSecret"] == {"name": "github-webhook", "key": "secret"}
    assert github["insecure"] is False and github["events"] == ["push"]
    assert github["webhook"]["maxPayloadSize"] == 25 * 1024 * 1024


@pytest.mark.parametrize("kind", ["EventSource", "Sensor"])
def test_event_pods_run_as_non_root(kind: str) -> None:
    name = "github" if kind == "EventSource" else "infra-on-push"
    context = BUNDLE[(kind, name)]["spec"]["template"]["securityContext"]
    assert context["runAsNonRoot"] is True and context["runAsUser"] == 10001


def test_cron_uses_the_argo4_schedules_list() -> None:
    spec = BUNDLE[("CronWorkflow", "data-refresh-prod")]["spec"]
    assert spec["schedules"] == [load_settings().data_schedule] and "schedule" not in spec
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["workflowSpec"] == {"workflowTemplateRef": {"name": "data-bootstrap-prod"}}


def test_secret_store_follows_esos_workload_identity_example() -> None:
    store = BUNDLE[("SecretStore", "automation-key-vault")]
    provider = store["spec"]["provider"]["azurekv"]
    assert store["apiVersion"] == "external-secrets.io/v1"
    assert provider == {
        "authType": "WorkloadIdentity",
        "vaultUrl": "https://kv-globorealty-automate.vault.azure.net/",
        "serviceAccountRef": {"name": "secrets-reader-prod"},
    }
    reader = BUNDLE[("ServiceAccount", "secrets-reader-prod")]["metadata"]["annotations"]
    assert "azure.workload.identity/tenant-id" in reader
