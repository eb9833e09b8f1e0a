"""Building blocks shared by the WorkflowTemplates: parameters, pod hardening, the runner container.

Every step runs the runner image (``Dockerfile``) as uid 10001 on a read-only root file system;
``/tmp`` is the only writable scratch volume. Parameters reach shell snippets as environment
variables, never pasted into the script text (Argo substitutes ``{{...}}`` textually).
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

from pipelines.settings import Settings

WORKDIR = "/workspace/repo"
CDKTF_OUT = f"{WORKDIR}/cdktf.out"
RUNNER_UID = 10001
TMP_VOLUME = "tmp"
SCRATCH = "/tmp"  # noqa: S108 - the pod's own emptyDir scratch volume, not this machine's /tmp
WORKLOAD_IDENTITY_LABEL = {"azure.workload.identity/use": "true"}
ENVIRONMENTS_CONFIGMAP = "azure-environments"
GIT_CREDENTIALS = "git-credentials"

ENV_PARAM = "{{workflow.parameters.environment}}"
IMAGE_PARAM = "{{workflow.parameters.runner-image}}"
REVISION_PARAM = "{{workflow.parameters.revision}}"


def workflow_parameters(settings: Settings) -> list[Parameter]:
    """The parameters every pipeline takes: environment (no default: choose), revision, image."""
    return [
        Parameter(
            name="environment",
            enum=settings.environment_names,
            description="config/<env>.toml to run against (azurerm-backed environments only)",
        ),
        Parameter(name="revision", value=settings.branch, description="git commit or branch to check out"),
        Parameter(name="runner-image", value=settings.runner_image, description="runner image, tag and digest"),
    ]


def workflow_template(
    settings: Settings, *, name: str, entrypoint: str, service_account: str, deadline_seconds: int
) -> WorkflowTemplate:
    """An empty WorkflowTemplate with the pod identity, hardening and clean-up every pipeline shares."""
    return WorkflowTemplate(
        name=name,
        entrypoint=entrypoint,
        labels={"app.kubernetes.io/part-of": "ml-platform"},
        **_workflow_options(settings, service_account=service_account, deadline_seconds=deadline_seconds),
    )


def _workflow_options(settings: Settings, *, service_account: str, deadline_seconds: int) -> dict[str, Any]:
    return {
        "namespace": settings.namespace,
        "service_account_name": service_account,
        "pod_metadata": m.Metadata(labels=WORKLOAD_IDENTITY_LABEL),
        "security_context": m.PodSecurityContext(
            run_as_non_root=True,
            run_as_user=RUNNER_UID,
            run_as_group=RUNNER_UID,
            fs_group=RUNNER_UID,
            seccomp_profile=m.SeccompProfile(type="RuntimeDefault"),
        ),
        "active_deadline_seconds": deadline_seconds,
        # Pods and workspaces go as soon as a step ends; the run (and its artifacts, which may
        # hold a plan with sensitive values) a day after it ends.
        "pod_gc": m.PodGC(strategy="OnPodCompletion"),
        "ttl_strategy": m.TTLStrategy(seconds_after_completion=86400),
        "artifact_gc": m.WorkflowLevelArtifactGC(
            strategy="OnWorkflowDeletion",
            service_account_name=service_account,
            pod_metadata=m.Metadata(labels=WORKLOAD_IDENTITY_LABEL),  # GC pods delete blobs as the identity
        ),
        "volumes": [EmptyDirVolume(name=TMP_VOLUME, size_limit=m.Quantity("4Gi"))],
        "arguments": workflow_parameters(settings),
    }


def container_security() -> m.SecurityContext:
    return m.SecurityContext(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        capabilities=m.Capabilities(drop=["ALL"]),
    )


def transient_retry() -> RetryStrategy:
    """For idempotent steps whose failures are mostly network: registry, ARM, Key Vault."""
    return RetryStrategy(
        limit="2",
        retry_policy="OnFailure",
        backoff=m.Backoff(duration="30s", factor=m.IntOrString("2"), max_duration="10m"),
    )


def source_artifact(settings: Settings) -> GitArtifact:
    """The repository at the requested revision, checked out by Argo with a read-only token."""
    return GitArtifact(
        name="source",
        path=WORKDIR,
        repo=settings.repository,
        revision=REVISION_PARAM,
        username_secret=m.SecretKeySelector(name=GIT_CREDENTIALS, key="username"),
        password_secret=m.SecretKeySelector(name=GIT_CREDENTIALS, key="token"),
    )


def from_task(task: str, artifact: str) -> Artifact:
    """An argument artifact taken from an earlier task's output of the same name."""
    return Artifact(name=artifact, from_=f"{{{{tasks.{task}.outputs.artifacts.{artifact}}}}}")


def cdktf_out_artifact() -> Artifact:
    return Artifact(name="cdktf-out", path=CDKTF_OUT)


def terraform_env() -> list[Env | m.EnvVar]:
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
                    name=ENVIRONMENTS_CONFIGMAP, key=f"{ENV_PARAM}.subscription-id"
                )
            ),
        ),
    ]


def runner(
    name: str,
    *,
    args: list[str] | None = None,
    script: str | None = None,
    env: list[Any] | None = None,
    inputs: list[Any] | None = None,
    outputs: list[Any] | None = None,
    retry: bool = False,
    memory: str = "1Gi",
) -> Container:
    """A step in the runner image: ``args`` executed directly, or a fixed ``script`` run by ``sh -eu``."""
    return Container(
        name=name,
        image=IMAGE_PARAM,
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


def synth_step(settings: Settings) -> Container:
    """``python main.py`` for the chosen environment; the whole cdktf.out is the output."""
    return runner(
        "synth",
        args=["python", "main.py"],
        env=[Env(name="PLATFORM_ENV", value=ENV_PARAM)],
        inputs=[source_artifact(settings)],
        outputs=[cdktf_out_artifact()],
        memory="2Gi",
    )
