"""The data WorkflowTemplate (connection -> datastore -> import -> verify) and its CronWorkflow.

Every step is a container running ``python -m data_bootstrap`` with fixed arguments. The
outputs file it needs comes from the platform's remote state (``terraform output -json`` of
``mlplatform-<env>``), so the pipeline always uses what the last apply produced. The Snowflake
key is not synced into the cluster: data_bootstrap reads it from Key Vault with the pod's
workload identity.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import DAG, Artifact, Container, Env, Parameter, Task, WorkflowTemplate

from pipelines.settings import Settings
from pipelines.steps import (
    CDKTF_OUT,
    ENV_PARAM,
    SCRATCH,
    cdktf_out_artifact,
    from_task,
    runner,
    source_artifact,
    synth_step,
    terraform_env,
    workflow_template,
)

NAME = "data-bootstrap"
CRON_NAME = "data-refresh"
SERVICE_ACCOUNT = "data-pipeline"
OUTPUTS_FILE = f"{SCRATCH}/outputs/outputs.json"
PROFILE_DIR = f"{SCRATCH}/profile"

OUTPUTS_SCRIPT = """\
terraform -chdir="$STACK_DIR" init -input=false
mkdir -p /tmp/outputs
terraform -chdir="$STACK_DIR" output -json > /tmp/outputs/outputs.json
"""


def _outputs_artifact() -> Artifact:
    return Artifact(name="outputs", path=OUTPUTS_FILE)


def outputs_step() -> Container:
    return runner(
        "platform-outputs",
        script=OUTPUTS_SCRIPT,
        env=[Env(name="STACK_DIR", value=f"{CDKTF_OUT}/stacks/mlplatform-{ENV_PARAM}"), *terraform_env()],
        inputs=[cdktf_out_artifact()],
        outputs=[_outputs_artifact()],
        retry=True,
    )


def _bootstrap(name: str, settings: Settings, command: list[str], **options: Any) -> Container:
    base = ["python", "-m", "data_bootstrap", *command[:1], "--env", ENV_PARAM, "--outputs", OUTPUTS_FILE]
    return runner(
        name,
        args=[*base, *command[1:]],
        inputs=[*options.pop("inputs", []), source_artifact(settings), _outputs_artifact()],
        **options,
    )


def build(settings: Settings) -> WorkflowTemplate:
    with workflow_template(
        settings, name=NAME, entrypoint="refresh", service_account=SERVICE_ACCOUNT, deadline_seconds=3 * 3600
    ) as template:
        synth, outputs = synth_step(settings), outputs_step()
        # connection and datastore registrations are idempotent upserts: safe to retry.
        register = _bootstrap(
            "register",
            settings,
            ["apply", "--step", "{{inputs.parameters.step}}"],
            inputs=[Parameter(name="step")],
            retry=True,
        )
        # The import runs the Snowflake query and writes a new asset version: not retried blindly.
        load = _bootstrap("import", settings, ["apply", "--step", "import"], memory="4Gi")
        verify = _bootstrap(
            "verify",
            settings,
            ["verify", "--profile-dir", PROFILE_DIR],
            outputs=[Artifact(name="profile", path=PROFILE_DIR)],
            retry=True,
            memory="2Gi",
        )

        with DAG(name="refresh"):
            Task(name="synth", template=synth)
            Task(
                name="platform-outputs", template=outputs, depends="synth", arguments=[from_task("synth", "cdktf-out")]
            )
            previous = "platform-outputs"
            for step in ("connection", "datastore"):
                Task(
                    name=step,
                    template=register,
                    depends=previous,
                    arguments=[Parameter(name="step", value=step), from_task("platform-outputs", "outputs")],
                )
                previous = step
            Task(name="import", template=load, depends=previous, arguments=[from_task("platform-outputs", "outputs")])
            Task(name="verify", template=verify, depends="import", arguments=[from_task("platform-outputs", "outputs")])
    return template


def cron_workflow(settings: Settings) -> dict[str, Any]:
    """Refreshes the data of one environment on a schedule (Argo 4: ``schedules`` list)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": CRON_NAME, "namespace": settings.namespace},
        "spec": {
            "schedules": [settings.data_schedule],
            "timezone": settings.data_timezone,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "workflowSpec": {
                "workflowTemplateRef": {"name": NAME},
                "arguments": {"parameters": [{"name": "environment", "value": settings.data_environment}]},
            },
        },
    }
