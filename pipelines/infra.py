"""The infrastructure WorkflowTemplate: synth, then per stack plan -> approval -> apply of that plan.

Stacks go strictly in order (network, then mlplatform): mlplatform reads network's outputs from
remote state, so it is planned only after network's apply succeeded. Each plan's whole working
directory (``.terraform`` and ``tfplan``) is the artifact that the apply step restores at the same
absolute path, so ``terraform apply tfplan`` applies exactly what was approved.
"""

from __future__ import annotations

from hera.workflows import DAG, Artifact, Container, Env, Parameter, Suspend, Task, WorkflowTemplate
from hera.workflows import models as m

from pipelines.settings import Settings
from pipelines.steps import (
    CDKTF_OUT,
    ENV_PARAM,
    SCRATCH,
    cdktf_out_artifact,
    from_task,
    runner,
    synth_step,
    terraform_env,
    workflow_template,
)
from stacks.naming import PIPELINE_STACK_KINDS, stack_name

NAME = "infra"
SERVICE_ACCOUNT = "infra-pipeline"
STACK_DIR = CDKTF_OUT + "/stacks/{{inputs.parameters.stack}}"
DECISION = "decision"

# Fixed scripts: the stack name arrives as $STACK, never pasted into the text.
PLAN_SCRIPT = """\
terraform -chdir="$STACK_DIR" init -input=false
terraform -chdir="$STACK_DIR" plan -input=false -lock-timeout=5m -out=tfplan
mkdir -p /tmp/plan
terraform -chdir="$STACK_DIR" show -no-color tfplan > /tmp/plan/summary.txt
"""
APPLY_SCRIPT = 'terraform -chdir="$STACK_DIR" apply -input=false -lock-timeout=5m tfplan\n'


def _stack_env() -> list[Env | m.EnvVar]:
    return [Env(name="STACK_DIR", value=STACK_DIR), *terraform_env()]


def plan_step() -> Container:
    return runner(
        "plan",
        script=PLAN_SCRIPT,
        env=_stack_env(),
        inputs=[Parameter(name="stack"), cdktf_out_artifact()],
        outputs=[
            Artifact(name="workdir", path=STACK_DIR),
            Artifact(
                name="plan-summary",
                path=f"{SCRATCH}/plan/summary.txt",
                archive=m.ArchiveStrategy(none=m.NoneStrategy()),
            ),
        ],
        retry=True,
        memory="2Gi",
    )


def apply_step() -> Container:
    # No retry: a half-applied plan is stale; a human re-runs the pipeline instead.
    return runner(
        "apply",
        script=APPLY_SCRIPT,
        env=_stack_env(),
        inputs=[Parameter(name="stack"), Artifact(name="workdir", path=STACK_DIR)],
        memory="2Gi",
    )


def approval_step() -> Suspend:
    """Waits for a human: ``approve`` applies the plan, ``reject`` (the default) skips the apply."""
    return Suspend(
        name="approval",
        inputs=[Parameter(name="stack")],
        intermediate_parameters=[
            Parameter(
                name=DECISION,
                enum=["approve", "reject"],
                default="reject",
                description="approve applies exactly the plan shown in this stack's plan-summary artifact",
            )
        ],
    )


def _stack_name(kind: str) -> str:
    return stack_name(kind, ENV_PARAM)


def build(settings: Settings) -> WorkflowTemplate:
    # Deadline: long enough for a human to approve twice, short enough that a forgotten plan goes stale.
    with workflow_template(
        settings, name=NAME, entrypoint="deploy", service_account=SERVICE_ACCOUNT, deadline_seconds=8 * 3600
    ) as template:
        synth, plan, approval, apply = synth_step(settings), plan_step(), approval_step(), apply_step()

        with DAG(name="deploy"):
            previous = "synth"
            Task(name="synth", template=synth)
            for kind in PIPELINE_STACK_KINDS:
                stack = {"stack": _stack_name(kind)}
                depends = previous if previous == "synth" else f"{previous}.Succeeded"
                Task(
                    name=f"plan-{kind}",
                    template=plan,
                    depends=depends,
                    arguments=[*_params(stack), from_task("synth", "cdktf-out")],
                )
                Task(name=f"approve-{kind}", template=approval, depends=f"plan-{kind}", arguments=_params(stack))
                Task(
                    name=f"apply-{kind}",
                    template=apply,
                    depends=f"approve-{kind}",
                    when=f"{{{{tasks.approve-{kind}.outputs.parameters.{DECISION}}}}} == approve",
                    arguments=[*_params(stack), from_task(f"plan-{kind}", "workdir")],
                )
                previous = f"apply-{kind}"

        with DAG(name="plan-only"):
            # Pull requests: plan every stack against the current state, approve nothing.
            Task(name="synth", template=synth)
            for kind in PIPELINE_STACK_KINDS:
                Task(
                    name=f"plan-{kind}",
                    template=plan,
                    depends="synth",
                    arguments=[*_params({"stack": _stack_name(kind)}), from_task("synth", "cdktf-out")],
                )
    return template


def _params(values: dict[str, str]) -> list[Parameter]:
    return [Parameter(name=name, value=value) for name, value in values.items()]
