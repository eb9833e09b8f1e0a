"""Design rules of the rendered pipelines that no schema expresses (docs/pipelines.md)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from pipelines.access import EXECUTOR_RULES
from pipelines.argo_render import OUT_DIR
from pipelines.settings import load_settings

STACK_KINDS = ("network", "mlplatform")


def _bundle() -> dict[tuple[str, str], dict[str, Any]]:
    docs: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(OUT_DIR.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


BUNDLE = _bundle()
INFRA = BUNDLE[("WorkflowTemplate", "infra")]["spec"]
DATA = BUNDLE[("WorkflowTemplate", "data-bootstrap")]["spec"]


def _templates(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {template["name"]: template for template in spec["templates"]}


def _tasks(spec: dict[str, Any], dag: str) -> dict[str, dict[str, Any]]:
    return {task["name"]: task for task in _templates(spec)[dag]["dag"]["tasks"]}


def _param(task: dict[str, Any], name: str) -> str:
    return next(str(p["value"]) for p in task["arguments"]["parameters"] if p["name"] == name)


@pytest.mark.parametrize("kind", STACK_KINDS)
def test_apply_runs_the_approved_plan_of_its_own_stack(kind: str) -> None:
    tasks = _tasks(INFRA, "deploy")
    plan, approve, apply = tasks[f"plan-{kind}"], tasks[f"approve-{kind}"], tasks[f"apply-{kind}"]
    assert approve["depends"] == f"plan-{kind}"
    assert apply["depends"] == f"approve-{kind}"
    assert apply["when"] == f"{{{{tasks.approve-{kind}.outputs.parameters.decision}}}} == approve"
    assert apply["arguments"]["artifacts"] == [
        {"name": "workdir", "from": f"{{{{tasks.plan-{kind}.outputs.artifacts.workdir}}}}"}
    ]
    assert _param(plan, "stack") == _param(approve, "stack") == _param(apply, "stack")
    assert _param(apply, "stack") == f"{kind}-{{{{workflow.parameters.environment}}}}"


def test_mlplatform_is_planned_only_after_network_is_applied() -> None:
    assert _tasks(INFRA, "deploy")["plan-mlplatform"]["depends"] == "apply-network.Succeeded"


def test_approval_is_an_explicit_decision_that_defaults_to_reject() -> None:
    approval = _templates(INFRA)["approval"]
    assert approval["suspend"] == {}
    decision = next(p for p in approval["inputs"]["parameters"] if p["name"] == "decision")
    assert decision["enum"] == ["approve", "reject"] and decision["default"] == "reject"
    assert approval["outputs"]["parameters"][0]["valueFrom"] == {"supplied": {}}


def test_terraform_commands_use_the_saved_plan() -> None:
    templates = _templates(INFRA)
    plan_script = templates["plan"]["container"]["args"][0]
    assert "init -input=false" in plan_script and "plan -input=false -lock-timeout=5m -out=tfplan" in plan_script
    assert "show -no-color tfplan > /tmp/plan/summary.txt" in plan_script
    assert templates["apply"]["container"]["args"][0].rstrip().endswith("apply -input=false -lock-timeout=5m tfplan")
    outputs = {a["name"]: a["path"] for a in templates["plan"]["outputs"]["artifacts"]}
    assert outputs["workdir"] == templates["apply"]["inputs"]["artifacts"][0]["path"]
    assert outputs["workdir"].startswith("/workspace/repo/cdktf.out/stacks/")


def test_plan_only_entrypoint_never_applies() -> None:
    assert {task["template"] for task in _tasks(INFRA, "plan-only").values()} == {"synth", "plan"}


def test_retries_only_on_transient_idempotent_steps() -> None:
    retried = {
        name for spec in (INFRA, DATA) for name, template in _templates(spec).items() if "retryStrategy" in template
    }
    assert retried == {"plan", "platform-outputs", "register", "verify"}
    for template in (_templates(INFRA)["plan"], _templates(DATA)["verify"]):
        assert template["retryStrategy"]["backoff"]["duration"] == "30s"


@pytest.mark.parametrize("spec", [INFRA, DATA], ids=["infra", "data"])
def test_pods_are_hardened_and_cleaned_up(spec: dict[str, Any]) -> None:
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
    assert spec["podMetadata"]["labels"] == {"azure.workload.identity/use": "true"}
    assert 0 < spec["activeDeadlineSeconds"] <= 8 * 3600
    assert spec["podGC"]["strategy"] == "OnPodCompletion"
    assert spec["ttlStrategy"]["secondsAfterCompletion"] <= 86400
    assert spec["artifactGC"]["strategy"] == "OnWorkflowDeletion"
    assert spec["artifactGC"]["podMetadata"] == spec["podMetadata"], "GC pods need the identity to delete blobs"
    containers = [t["container"] for t in spec["templates"] if "container" in t]
    assert containers and all("script" not in t for t in spec["templates"])
    for container in containers:
        assert container["image"] == "{{workflow.parameters.runner-image}}"
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] and not context["allowPrivilegeEscalation"]
        assert context["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["limits"]["memory"]


def test_data_steps_run_the_cli_in_order() -> None:
    tasks = _tasks(DATA, "refresh")
    order = ["synth", "platform-outputs", "connection", "datastore", "import", "verify"]
    assert [tasks[name].get("depends") for name in order[1:]] == order[:-1]
    templates = _templates(DATA)
    commands = {name: templates[tasks[name]["template"]]["container"]["args"] for name in order[2:]}
    for name, args in commands.items():
        assert args[:3] == ["python", "-m", "data_bootstrap"], name
        assert args[4:8] == ["--env", "{{workflow.parameters.environment}}", "--outputs", "/tmp/outputs/outputs.json"]
    assert [_param(tasks[name], "step") for name in ("connection", "datastore")] == ["connection", "datastore"]
    assert commands["import"][3] == "apply" and commands["import"][-2:] == ["--step", "import"]
    assert commands["verify"][3] == "verify" and commands["verify"][-2:] == ["--profile-dir", "/tmp/profile"]
    assert templates["verify"]["outputs"]["artifacts"] == [{"name": "profile", "path": "/tmp/profile"}]


def test_service_accounts_carry_identities_not_secrets() -> None:
    settings = load_settings()
    expected = {
        "infra-pipeline": settings.infra_client_id,
        "data-pipeline": settings.data_client_id,
        "secrets-reader": settings.secrets_client_id,
    }
    for name, client_id in expected.items():
        annotations = BUNDLE[("ServiceAccount", name)]["metadata"]["annotations"]
        assert annotations["azure.workload.identity/client-id"] == client_id
    assert not any(kind == "Secret" for kind, _ in BUNDLE), "Secrets come from Key Vault through ESO only"


def test_rbac_is_least_privilege() -> None:
    roles = {name: doc["rules"] for (kind, name), doc in BUNDLE.items() if kind == "Role"}
    assert roles == {
        "infra-pipeline": EXECUTOR_RULES,
        "data-pipeline": EXECUTOR_RULES,
        "infra-sensor": [{"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]}],
    }
    assert {rule["resources"][0]: rule["verbs"] for rule in EXECUTOR_RULES}["workflowtaskresults"] == [
        "create",
        "patch",
    ]
    assert not any(kind.startswith("Cluster") for kind, _ in BUNDLE)
    for name in roles:
        binding = BUNDLE[("RoleBinding", name)]
        assert binding["roleRef"]["name"] == name and binding["subjects"][0]["name"] == name


def test_sensor_submits_the_pushed_commit_of_the_infra_pipeline() -> None:
    settings = load_settings()
    k8s = BUNDLE[("Sensor", "infra-on-push")]["spec"]["triggers"][0]["template"]["k8s"]
    workflow = k8s["source"]["resource"]
    assert k8s["operation"] == "create" and workflow["spec"]["workflowTemplateRef"] == {"name": "infra"}
    index = int(k8s["parameters"][0]["dest"].split(".")[3])
    assert workflow["spec"]["arguments"]["parameters"][index]["name"] == "revision"
    assert k8s["parameters"][0]["src"]["dataKey"] == "body.after"
    assert workflow["spec"]["arguments"]["parameters"][0] == {"name": "environment", "value": settings.push_environment}
    script = BUNDLE[("Sensor", "infra-on-push")]["spec"]["dependencies"][0]["filters"]["script"]
    assert f'event.body.ref ~= "refs/heads/{settings.branch}"' in script
    assert all(f'"{prefix}"' in script for prefix in settings.infra_paths)


def test_event_source_verifies_github_signatures() -> None:
    github = BUNDLE[("EventSource", "github")]["spec"]["github"]["push"]
    assert github["webhookSecret"] == {"name": "github-webhook", "key": "secret"}
    assert github["insecure"] is False and github["events"] == ["push"]


def test_cron_uses_the_argo4_schedules_list() -> None:
    spec = BUNDLE[("CronWorkflow", "data-refresh")]["spec"]
    assert spec["schedules"] == [load_settings().data_schedule] and "schedule" not in spec
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["workflowSpec"]["workflowTemplateRef"] == {"name": "data-bootstrap"}


def test_secret_store_reads_key_vault_with_workload_identity() -> None:
    store = BUNDLE[("SecretStore", "automation-key-vault")]
    provider = store["spec"]["provider"]["azurekv"]
    assert store["apiVersion"] == "external-secrets.io/v1"
    assert provider["authType"] == "WorkloadIdentity" and provider["vaultUrl"].startswith("https://")
    assert provider["serviceAccountRef"] == {"name": "secrets-reader"}
