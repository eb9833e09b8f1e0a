"""The data WorkflowTemplate of one environment (connection -> datastore -> import -> verify) and its CronWorkflow.

Every step is a container running ``python -m data_bootstrap`` with fixed arguments, as
``data-bootstrap-<env>``. The outputs file it needs comes from the platform's remote state
(``terraform output -json`` of ``mlplatform-<env>``), so the pipeline always uses what the last
apply produced. ``synth`` resolves the revision to one commit, and every later checkout uses that
commit: a push to the branch during the run cannot mix two versions of the code. The Snowflake key
is not synced into the cluster: data_bootstrap reads it from Key Vault with the pod's workload identity.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import DAG, Artifact, Container, Env, Parameter, Task

from pipelines.settings import Environment, Settings
from pipelines.steps import (
    CDKTF_OUT,
    COMMIT_INPUT,
    SCRATCH,
    account,
    cdktf_out_artifact,
    from_task,
    runner,
    source_artifact,
    synth_step,
    template_name,
    terraform_env,
    workflow_template,
)
from stacks.naming import DATA_BOOTSTRAP, ML_PLATFORM, stack_name

NAME = "data-bootstrap"
CRON_NAME = "data-refresh"
OUTPUTS_FILE = f"{SCRATCH}/outputs/outputs.json"
PROFILE_DIR = f"{SCRATCH}/profile"
COMMIT_FROM_SYNTH = Parameter(name="commit", value="{{tasks.synth.outputs.parameters.commit}}")

OUTPUTS_SCRIPT = """\
terraform -chdir="$STACK_DIR" init -input=false
mkdir -p /tmp/outputs
terraform -chdir="$STACK_DIR" output -json > /tmp/outputs/outputs.json
"""


def _outputs_artifact() -> Artifact:
    return Artifact(name="outputs", path=OUTPUTS_FILE)


def outputs_step(settings: Settings, env: Environment) -> Container:
    return runner(
        settings,
        "platform-outputs",
        service_account=account(DATA_BOOTSTRAP, env),
        script=OUTPUTS_SCRIPT,
        env=[
            Env(name="STACK_DIR", value=f"{CDKTF_OUT}/stacks/{stack_name(ML_PLATFORM, env.name)}"),
            *terraform_env(env),
        ],
        inputs=[cdktf_out_artifact()],
        outputs=[_outputs_artifact()],
        retry=True,
    )


def _bootstrap(name: str, settings: Settings, env: Environment, command: list[str], **options: Any) -> Container:
    base = ["python", "-m", "data_bootstrap", *command[:1], "--env", env.name, "--outputs", OUTPUTS_FILE]
    return runner(
        settings,
        name,
        service_account=account(DATA_BOOTSTRAP, env),
        args=[*base, *command[1:]],
        inputs=[
            *options.pop("inputs", []),
            Parameter(name="commit"),
            source_artifact(settings, COMMIT_INPUT),
            _outputs_artifact(),
        ],
        **options,
    )


def build(settings: Settings, env: Environment) -> dict[str, Any]:
    with workflow_template(
        settings,
        env,
        name=NAME,
        entrypoint="refresh",
        default_account=account(DATA_BOOTSTRAP, env),
        deadline_seconds=3 * 3600,
    ) as template:
        synth = synth_step(settings, env, uploader=account(DATA_BOOTSTRAP, env))
        outputs = outputs_step(settings, env)
        # connection and datastore registrations are idempotent upserts: safe to retry.
        register = _bootstrap(
            "register",
            settings,
            env,
            ["apply", "--step", "{{inputs.parameters.step}}"],
            inputs=[Parameter(name="step")],
            retry=True,
        )
        # The import runs the Snowflake query and writes a new asset version: not retried blindly.
        load = _bootstrap("import", settings, env, ["apply", "--step", "import"], memory="4Gi")
        verify = _bootstrap(
            "verify",
            settings,
            env,
            ["verify", "--profile-dir", PROFILE_DIR],
            outputs=[Artifact(name="profile", path=PROFILE_DIR)],
            retry=True,
            memory="2Gi",
        )
        outputs_file = from_task("platform-outputs", "outputs")

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
                    arguments=[Parameter(name="step", value=step), COMMIT_FROM_SYNTH, outputs_file],
                )
                previous = step
            Task(name="import", template=load, depends=previous, arguments=[COMMIT_FROM_SYNTH, outputs_file])
            Task(name="verify", template=verify, depends="import", arguments=[COMMIT_FROM_SYNTH, outputs_file])
    body: dict[str, Any] = template.to_dict()
    return body


def cron_workflow(settings: Settings, env: Environment) -> dict[str, Any]:
    """Refreshes the data of one environment on a schedule (Argo 4: ``schedules`` list)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": f"{CRON_NAME}-{env.name}", "namespace": settings.namespace},
        "spec": {
            "schedules": [settings.data_schedule],
            "timezone": settings.data_timezone,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "workflowSpec": {"workflowTemplateRef": {"name": template_name(NAME, env)}},
        },
    }
