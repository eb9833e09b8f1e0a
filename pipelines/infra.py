"""The infrastructure WorkflowTemplate of one environment: synth, then per stack plan -> approval -> apply.

Stacks go strictly in order (network, then mlplatform): mlplatform reads network's outputs from
remote state, so it is planned only after network's apply succeeded.

Identities: synth's container has no Azure token; plan runs as ``infra-plan-<env>`` (read);
only the apply runs as ``infra-apply-<env>``, and it is an inline template, so no submitter can
start it with ``--entrypoint``. The plan's SHA-256 and the state serial it was made against are
recorded in the workflow's status (not in the artifact store, which other identities can write)
and checked by the apply before it runs; the artifact carries the configuration, the provider
lock file and ``tfplan``, never provider binaries: the apply re-initialises from the lock file.
"""

from __future__ import annotations

from typing import Any

from hera.workflows import DAG, Artifact, Container, Env, Parameter, Suspend, Task
from hera.workflows import models as m

from pipelines.settings import Environment, Settings
from pipelines.steps import (
    CDKTF_OUT,
    SCRATCH,
    account,
    cdktf_out_artifact,
    from_task,
    inline,
    runner,
    synth_step,
    terraform_env,
    workflow_template,
)
from stacks.naming import INFRA_APPLY, INFRA_PLAN, PIPELINE_STACK_KINDS, stack_name

NAME = "infra"
STACK_DIR = CDKTF_OUT + "/stacks/{{inputs.parameters.stack}}"
DECISION = "decision"
REJECT = "reject"
# An approval nobody answers resolves to the default (reject) after this long
# (argo-workflows v4.1.2 workflow/controller/operator.go executeSuspend -> OverrideOutputParametersWithDefault).
APPROVAL_WINDOW = "3h"
INLINED = {"apply"}

# `terraform state pull` prints nothing before the first apply: serial 0 then.
_SERIAL = (
    "python -c 'import json, sys; text = sys.stdin.read(); "
    """print(json.loads(text)["serial"] if text.strip() else 0, end="")'"""
)

# Fixed scripts: the stack and the expected values arrive as environment variables, never pasted in.
PLAN_SCRIPT = f"""\
terraform -chdir="$STACK_DIR" init -input=false
# Read-only, so no state lock: a retry never waits on a lock a killed run left behind. The mutex
# serialises runs of this environment, and the apply refuses a plan whose base state changed.
terraform -chdir="$STACK_DIR" plan -input=false -lock=false -out=tfplan
mkdir -p /tmp/plan
sha256sum < "$STACK_DIR/tfplan" | cut -c1-64 > /tmp/plan/sha256
terraform -chdir="$STACK_DIR" state pull | {_SERIAL} > /tmp/plan/state-serial
{{
  echo "stack: $STACK  plan sha256: $(cat /tmp/plan/sha256)  state serial: $(cat /tmp/plan/state-serial)"
  echo
  terraform -chdir="$STACK_DIR" show -no-color tfplan
}} > /tmp/plan/summary.txt
# Ship configuration, .terraform.lock.hcl and tfplan, not provider binaries: apply re-inits from the lock.
rm -rf "$STACK_DIR/.terraform"
"""
APPLY_SCRIPT = f"""\
actual=$(sha256sum < "$STACK_DIR/tfplan" | cut -c1-64)
if [ "$actual" != "$PLAN_SHA256" ]; then
  echo "error: tfplan sha256 $actual is not the approved plan's $PLAN_SHA256; refusing to apply" >&2
  exit 1
fi
terraform -chdir="$STACK_DIR" init -input=false -lockfile=readonly
serial=$(terraform -chdir="$STACK_DIR" state pull | {_SERIAL})
if [ "$serial" != "$STATE_SERIAL" ]; then
  echo "error: the state changed since the plan (serial $STATE_SERIAL -> $serial); re-run the pipeline" >&2
  exit 1
fi
terraform -chdir="$STACK_DIR" apply -input=false -lock-timeout=5m tfplan
"""


def _stack_env(env: Environment) -> list[Env | m.EnvVar]:
    return [
        Env(name="STACK", value="{{inputs.parameters.stack}}"),
        Env(name="STACK_DIR", value=STACK_DIR),
        *terraform_env(env),
    ]


def plan_step(settings: Settings, env: Environment) -> Container:
    return runner(
        settings,
        "plan",
        service_account=account(INFRA_PLAN, env),
        script=PLAN_SCRIPT,
        env=_stack_env(env),
        inputs=[Parameter(name="stack"), cdktf_out_artifact()],
        outputs=[
            Artifact(name="workdir", path=STACK_DIR),
            Artifact(
                name="plan-summary",
                path=f"{SCRATCH}/plan/summary.txt",
                archive=m.ArchiveStrategy(none=m.NoneStrategy()),
            ),
            Parameter(name="plan-sha256", value_from=m.ValueFrom(path=f"{SCRATCH}/plan/sha256")),
            Parameter(name="state-serial", value_from=m.ValueFrom(path=f"{SCRATCH}/plan/state-serial")),
        ],
        retry=True,
        memory="2Gi",
    )


def apply_step(settings: Settings, env: Environment) -> Container:
    # No retry: a half-applied plan is stale; a human re-runs the pipeline instead.
    return runner(
        settings,
        "apply",
        service_account=account(INFRA_APPLY, env),
        script=APPLY_SCRIPT,
        env=[
            *_stack_env(env),
            Env(name="PLAN_SHA256", value="{{inputs.parameters.plan-sha256}}"),
            Env(name="STATE_SERIAL", value="{{inputs.parameters.state-serial}}"),
        ],
        inputs=[
            Parameter(name="stack"),
            Parameter(name="plan-sha256"),
            Parameter(name="state-serial"),
            Artifact(name="workdir", path=STACK_DIR),
        ],
        memory="2Gi",
    )


def approval_step() -> Suspend:
    """Waits for a human: ``approve`` applies the plan, ``reject`` (the default on every path) skips it.

    Its only input is the output it expects: the UI's resume sends every input of the node back
    as an output, and the server refuses any it does not expect (argo-workflows v4.1.2
    ui/src/workflows/components/workflow-details/workflow-details.tsx getParametersAsJsonString,
    workflow/util/util.go updateSuspendedNode "node is not expecting output parameter").
    """
    return Suspend(
        name="approval",
        duration=APPROVAL_WINDOW,
        inputs=[
            Parameter(
                name=DECISION,
                enum=["approve", REJECT],
                default=REJECT,
                description="approve applies exactly the plan whose sha256 heads this stack's plan-summary",
            )
        ],
        outputs=[Parameter(name=DECISION, value_from=m.ValueFrom(supplied=m.SuppliedValueFrom(), default=REJECT))],
    )


def approved(task: str) -> str:
    """True only for an explicit ``approve``.

    A node resumed without ``node set`` has no value for the output; a plain
    ``{{tasks...}}`` reference would then wait forever (workflow/controller/dag.go: a missing
    variable requeues), so the expression reads it nil-safely (``?.``) and falls back to reject
    with ``??`` (util/template/expression_template.go guardVisitor; expression_template_test.go
    "tasks.a.outputs.result ?? 'default'").
    """
    return f"{{{{=(tasks['{task}']?.outputs?.parameters?.{DECISION} ?? '{REJECT}') == 'approve'}}}}"


def _plan_output(task: str, name: str) -> Parameter:
    return Parameter(name=name, value=f"{{{{tasks.{task}.outputs.parameters.{name}}}}}")


def build(settings: Settings, env: Environment) -> dict[str, Any]:
    # Deadline: long enough for a human to approve twice, short enough that a forgotten plan goes stale.
    with workflow_template(
        settings,
        env,
        name=NAME,
        entrypoint="deploy",
        default_account=account(INFRA_PLAN, env),
        deadline_seconds=8 * 3600,
    ) as template:
        synth = synth_step(settings, env, uploader=account(INFRA_PLAN, env))
        plan, approval, apply = plan_step(settings, env), approval_step(), apply_step(settings, env)

        with DAG(name="deploy"):
            previous = "synth"
            Task(name="synth", template=synth)
            for kind in PIPELINE_STACK_KINDS:
                stack = Parameter(name="stack", value=stack_name(kind, env.name))
                depends = previous if previous == "synth" else f"{previous}.Succeeded"
                Task(
                    name=f"plan-{kind}",
                    template=plan,
                    depends=depends,
                    arguments=[stack, from_task("synth", "cdktf-out")],
                )
                Task(name=f"approve-{kind}", template=approval, depends=f"plan-{kind}")
                Task(
                    name=f"apply-{kind}",
                    template=apply,
                    depends=f"approve-{kind}",
                    when=approved(f"approve-{kind}"),
                    arguments=[
                        stack,
                        _plan_output(f"plan-{kind}", "plan-sha256"),
                        _plan_output(f"plan-{kind}", "state-serial"),
                        from_task(f"plan-{kind}", "workdir"),
                    ],
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
                    arguments=[
                        Parameter(name="stack", value=stack_name(kind, env.name)),
                        from_task("synth", "cdktf-out"),
                    ],
                )
    body: dict[str, Any] = template.to_dict()
    inline(body["spec"], INLINED)
    return body
