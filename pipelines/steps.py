"""Building blocks shared by the WorkflowTemplates: parameters, pod identity and hardening, the runner.

One WorkflowTemplate per pipeline and environment (``infra-prod``, ``data-bootstrap-prod``): the
environment is not a parameter a submitter chooses but part of the template, so its identities,
mutex and artifact repository are fixed with it. Every step runs the runner image (``Dockerfile``),
pinned by digest, as uid 10001 on a read-only root file system; ``/tmp`` is the only writable
scratch volume. Parameters reach shell snippets as environment variables, never pasted into the
script text (Argo substitutes ``{{...}}`` textually).

Kubernetes API: the step containers get no token at all (``automountServiceAccountToken: false``);
only Argo's executor containers get one, of the ``argo-executor`` account, through
``executor.serviceAccountName`` (argo-workflows v4.1.2 ``workflow/controller/workflowpod.go``,
``setupServiceAccount``; the token Secret is found by name, ``util/secrets/secret_name.go``).
Azure: a pod gets a token only if its ServiceAccount carries a client id and the pod the
``azure.workload.identity/use`` label (AKS workload identity webhook).
"""

from __future__ import annotations

from typing import Any

from hera.workflows import (
    Artifact,
    Container,
    EmptyDirVolume,
    Env,
    GitArtifact,
    Parameter,
    RetryStrategy,
    WorkflowTemplate,
)
from hera.workflows import models as m

from pipelines.settings import Environment, Settings
from stacks.naming import service_account_name

WORKDIR = "/workspace/repo"
CDKTF_OUT = f"{WORKDIR}/cdktf.out"
RUNNER_UID = 10001
TMP_VOLUME = "tmp"
SCRATCH = "/tmp"  # noqa: S108 - the pod's own emptyDir scratch volume, not this machine's /tmp
WORKLOAD_IDENTITY_LABEL = {"azure.workload.identity/use": "true"}
# The webhook injects no token into the containers named here (Argo's step container is "main"):
# https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html#pod-annotations
SKIP_MAIN_CONTAINER = {"azure.workload.identity/skip-containers": "main"}
ENVIRONMENTS_CONFIGMAP = "azure-environments"
ARTIFACT_REPOSITORIES = "artifact-repositories"
GIT_CREDENTIALS = "git-credentials"
EXECUTOR_ACCOUNT = "argo-executor"
LABELS = {"app.kubernetes.io/part-of": "ml-platform"}

REVISION_PARAM = "{{workflow.parameters.revision}}"
COMMIT_INPUT = "{{inputs.parameters.commit}}"

# Argo's git artifact clones with .git and checks out the commit detached
# (argo-workflows v4.1.2 workflow/artifacts/git/git.go: PlainClone, Checkout{Hash}), so HEAD holds it.
RESOLVE_COMMIT = """\
python - > /tmp/commit <<'EOF'
from pathlib import Path
git = Path(".git")
head = (git / "HEAD").read_text().strip()
ref = head.removeprefix("ref: ")
if ref != head:
    packed = git / "packed-refs"
    lines = packed.read_text().splitlines() if packed.exists() else []
    head = (git / ref).read_text().strip() if (git / ref).exists() else next(
        line.split()[0] for line in lines if line.endswith(" " + ref)
    )
print(head, end="")
EOF
"""
SYNTH_SCRIPT = "python main.py\n" + RESOLVE_COMMIT


def template_name(base: str, env: Environment) -> str:
    return f"{base}-{env.name}"


def account(job: str, env: Environment) -> str:
    """The ServiceAccount of ``job`` in ``env`` (contract: stacks.naming.service_account_name)."""
    return service_account_name(job, env.name)


def workflow_parameters(settings: Settings) -> list[Parameter]:
    """The one parameter a submitter chooses: what to check out. Image, identities, entrypoints are fixed."""
    return [Parameter(name="revision", value=settings.branch, description="git commit or branch to check out")]


def pod_security() -> m.PodSecurityContext:
    return m.PodSecurityContext(
        run_as_non_root=True,
        run_as_user=RUNNER_UID,
        run_as_group=RUNNER_UID,
        fs_group=RUNNER_UID,
        seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
    )


def workflow_template(
    settings: Settings,
    env: Environment,
    *,
    name: str,
    entrypoint: str,
    default_account: str,
    deadline_seconds: int,
) -> WorkflowTemplate:
    """An empty per-environment WorkflowTemplate with what every pipeline shares.

    ``default_account`` runs any pod that names no account and deletes the run's artifacts.
    """
    return WorkflowTemplate(
        name=template_name(name, env),
        namespace=settings.namespace,
        labels=LABELS,
        entrypoint=entrypoint,
        service_account_name=default_account,
        automount_service_account_token=False,
        executor=m.ExecutorConfig(service_account_name=EXECUTOR_ACCOUNT),
        pod_metadata=m.Metadata(labels=WORKLOAD_IDENTITY_LABEL),
        security_context=pod_security(),
        # One run per pipeline and environment at a time; later submissions queue
        # (argo-workflows v4.1.2 docs/synchronization.md, workflow-level mutex).
        synchronization=m.Synchronization(mutexes=[m.Mutex(name=template_name(name, env))]),
        # The environment's own blob container (issue 13 creates it and grants the uploaders).
        artifact_repository_ref=m.ArtifactRepositoryRef(config_map=ARTIFACT_REPOSITORIES, key=env.name),
        active_deadline_seconds=deadline_seconds,
        # Pods and workspaces go as soon as a step ends; the run (and its artifacts, which may
        # hold a plan with sensitive values) a day after it ends.
        pod_gc=m.PodGC(strategy="OnPodCompletion"),
        ttl_strategy=m.TTLStrategy(seconds_after_completion=86400),
        artifact_gc=m.WorkflowLevelArtifactGC(
            strategy="OnWorkflowDeletion",
            service_account_name=default_account,
            pod_metadata=m.Metadata(labels=WORKLOAD_IDENTITY_LABEL),  # GC pods delete blobs as the identity
        ),
        volumes=[EmptyDirVolume(name=TMP_VOLUME, size_limit=m.Quantity("4Gi"))],
        arguments=workflow_parameters(settings),
    )


def container_security() -> m.SecurityContext:
    return m.SecurityContext(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        run_as_user=RUNNER_UID,
        capabilities=m.Capabilities(drop=["ALL"]),
    )


def transient_retry() -> RetryStrategy:
    """For idempotent steps whose failures are mostly network: registry, ARM, Key Vault."""
    return RetryStrategy(
        limit="2",
        retry_policy="OnFailure",
        backoff=m.Backoff(duration="30s", factor=m.IntOrString("2"), max_duration="10m"),
    )


def source_artifact(settings: Settings, revision: str) -> GitArtifact:
    """The repository at ``revision``, checked out by Argo with a read-only token."""
    return GitArtifact(
        name="source",
        path=WORKDIR,
        repo=settings.repository,
        revision=revision,
        username_secret=m.SecretKeySelector(name=GIT_CREDENTIALS, key="username"),
        password_secret=m.SecretKeySelector(name=GIT_CREDENTIALS, key="token"),
    )


def from_task(task: str, artifact: str) -> Artifact:
    """An argument artifact taken from an earlier task's output of the same name."""
    return Artifact(name=artifact, from_=f"{{{{tasks.{task}.outputs.artifacts.{artifact}}}}}")


def cdktf_out_artifact() -> Artifact:
    return Artifact(name="cdktf-out", path=CDKTF_OUT)


def terraform_env(env: Environment) -> list[Env | m.EnvVar]:
    """azurerm provider and backend auth through AKS workload identity: no client secret."""
    return [
        Env(name="ARM_USE_AKS_WORKLOAD_IDENTITY", value="true"),
        Env(name="ARM_USE_OIDC", value="true"),
        Env(name="ARM_USE_AZUREAD", value="true"),
        Env(name="ARM_STORAGE_USE_AZUREAD", value="true"),
        Env(name="TF_IN_AUTOMATION", value="1"),
        Env(name="TF_INPUT", value="0"),
        m.EnvVar(
            name="ARM_SUBSCRIPTION_ID",
            value_from=m.EnvVarSource(
                config_map_key_ref=m.ConfigMapKeySelector(
                    name=ENVIRONMENTS_CONFIGMAP, key=f"{env.name}.subscription-id"
                )
            ),
        ),
    ]


def runner(
    settings: Settings,
    name: str,
    *,
    service_account: str,
    args: list[str] | None = None,
    script: str | None = None,
    env: list[Any] | None = None,
    inputs: list[Any] | None = None,
    outputs: list[Any] | None = None,
    retry: bool = False,
    memory: str = "1Gi",
    annotations: dict[str, str] | None = None,
) -> Container:
    """A step in the pinned runner image: ``args`` executed directly, or a fixed ``script`` run by ``sh -eu``."""
    return Container(
        name=name,
        image=settings.runner_image,
        service_account_name=service_account,
        annotations=annotations,
        command=["/bin/sh", "-euc"] if script is not None else None,
        args=[script] if script is not None else args,
        working_dir=WORKDIR,
        env=[Env(name="HOME", value=SCRATCH), *(env or [])],
        inputs=inputs,
        outputs=outputs,
        retry_strategy=transient_retry() if retry else None,
        security_context=container_security(),
        volume_mounts=[m.VolumeMount(name=TMP_VOLUME, mount_path=SCRATCH)],
        resources=m.ResourceRequirements(
            requests={"cpu": m.Quantity("250m"), "memory": m.Quantity(memory)},
            limits={"memory": m.Quantity(memory)},
        ),
    )


def synth_step(settings: Settings, env: Environment, *, uploader: str) -> Container:
    """``python main.py`` for the environment, with no Azure token in its container.

    It runs the checked-out code (a pull request's, for ``plan-only``), so its ``main`` container
    is skipped by the workload identity webhook; the pod's account ``uploader`` only serves Argo's
    executor, which uploads ``cdktf-out`` to the artifact repository. It also resolves the
    revision to the commit it checked out, which later steps use, so one run sees one commit.
    """
    return runner(
        settings,
        "synth",
        service_account=uploader,
        annotations=SKIP_MAIN_CONTAINER,
        script=SYNTH_SCRIPT,
        env=[Env(name="PLATFORM_ENV", value=env.name)],
        inputs=[source_artifact(settings, REVISION_PARAM)],
        outputs=[cdktf_out_artifact(), Parameter(name="commit", value_from=m.ValueFrom(path=f"{SCRATCH}/commit"))],
        memory="2Gi",
    )


def inline(spec: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """Move the named templates into the DAG tasks that call them (``inline``).

    A submitter may choose any *named* template as ``--entrypoint``, even under
    ``templateReferencing: Secure`` (``entrypoint`` and ``arguments`` are allow-listed:
    argo-workflows v4.1.2 docs/workflow-restrictions.md). An inline template has no name to choose,
    so it runs only where its DAG puts it: after plan and approval.
    """
    bodies = {t["name"]: {k: v for k, v in t.items() if k != "name"} for t in spec["templates"] if t["name"] in names}
    spec["templates"] = [t for t in spec["templates"] if t["name"] not in names]
    for template in spec["templates"]:
        for task in (template.get("dag") or {}).get("tasks") or []:
            if task.get("template") in bodies:
                task["inline"] = bodies[task.pop("template")]
    return spec
