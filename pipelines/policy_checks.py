"""Rules a workflow spec must follow so it works on a real cluster and its approval cannot be skipped.

Each rule names the upstream behaviour it guards (argo-workflows v4.1.2 paths) and has a bad
fixture under tests/pipelines/fixtures that it catches alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from pipelines.bundle import Bundle
from pipelines.workflow_checks import TERRAFORM_APPLY, image_problem

_TERRAFORM_PLAN = re.compile(r"\bterraform\s+(?:-chdir=\S+\s+)?plan\b")
_SYNTH = re.compile(r"\bpython\s+main\.py\b|\bcdktf\s+synth\b")
_SUSPEND_OUTPUT_REF = re.compile(r"\{\{\s*tasks\.([\w-]+)\.outputs\.parameters\.([\w-]+)\s*\}\}")
_DIGEST_IMAGE = re.compile(r"[^{}\s]+@sha256:[0-9a-f]{64}")
SKIP_MAIN = "azure.workload.identity/skip-containers"
CLIENT_ID = "azure.workload.identity/client-id"


def templates(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """Every template of a spec as (label, template, named); inline ones are labelled after their task."""
    for template in spec.get("templates") or []:
        yield str(template.get("name")), template, True
        for task in (template.get("dag") or {}).get("tasks") or []:
            if isinstance(task.get("inline"), dict):
                yield f"{task.get('name')} (inline)", task["inline"], False


def command_text(template: dict[str, Any]) -> str:
    container = template.get("container") or template.get("script") or {}
    return " ".join(map(str, [*(container.get("command") or []), *(container.get("args") or [])])) + (
        " " + str(container.get("source", ""))
    )


def _account(template: dict[str, Any], spec: dict[str, Any]) -> str:
    return str(template.get("serviceAccountName") or spec.get("serviceAccountName") or "default")


def spec_policy(spec: dict[str, Any], bundle: Bundle, *, reusable: bool) -> Iterator[str]:
    """All rules for one workflow spec; ``reusable``: a (Cluster)WorkflowTemplate others reference."""
    if "templates" not in spec:
        return
    yield from _approval(spec)
    yield from _artifact_repository(spec, bundle)
    yield from _identities(spec, bundle)
    yield from _apply(spec)
    yield from _single_checkout(spec)
    if reusable:
        yield from _pinned_images(spec)


def _approval(spec: dict[str, Any]) -> Iterator[str]:
    suspends: dict[str, set[str]] = {}
    for label, template, _ in templates(spec):
        if "suspend" not in template:
            continue
        supplied = {
            p["name"]: p
            for p in (template.get("outputs") or {}).get("parameters") or []
            if "supplied" in (p.get("valueFrom") or {})
        }
        suspends[label] = set(supplied)
        for param in (template.get("inputs") or {}).get("parameters") or []:
            if param.get("name") not in supplied:
                # ui/src/workflows/components/workflow-details/workflow-details.tsx getParametersAsJsonString;
                # workflow/util/util.go updateSuspendedNode.
                yield (
                    f"template {label}: input {param.get('name')!r} is no supplied output: the UI's resume sends "
                    "every input back as an output and the server refuses it ('node is not expecting output "
                    "parameter'); fix: declare only the outputs the approver sets as inputs"
                )
        for name, param in supplied.items():
            if "default" not in param["valueFrom"]:
                # workflow/util/util.go OverrideOutputParametersWithDefault (resume, suspend timeout).
                yield (
                    f"template {label}: supplied output {name!r} has no valueFrom.default: a resume without "
                    "`node set` or a timeout errors; fix: add valueFrom.default (e.g. reject)"
                )
    yield from _unguarded_decisions(spec, suspends)


def _unguarded_decisions(spec: dict[str, Any], suspends: dict[str, set[str]]) -> Iterator[str]:
    for template in spec.get("templates") or []:
        tasks = {t.get("name"): t for t in (template.get("dag") or {}).get("tasks") or []}
        for task in tasks.values():
            for producer, name in _SUSPEND_OUTPUT_REF.findall(str(task.get("when", ""))):
                callee = str((tasks.get(producer) or {}).get("template"))
                if name in suspends.get(callee, set()):
                    # workflow/controller/dag.go resolveDependencyReferences: a missing variable requeues.
                    yield (
                        f"task {task.get('name')}: when reads {producer}'s {name!r} without a fallback: resumed "
                        "without `node set` it stays unset and the run waits until its deadline; fix: "
                        f"{{{{=(tasks['{producer}']?.outputs?.parameters?.{name} ?? 'reject') == 'approve'}}}}"
                    )


def _artifact_repository(spec: dict[str, Any], bundle: Bundle) -> Iterator[str]:
    produces = any((t.get("outputs") or {}).get("artifacts") for _, t, _ in templates(spec))
    reference = spec.get("artifactRepositoryRef")
    if produces and not reference:
        yield (
            "spec: artifacts are passed but no artifactRepositoryRef names where they go; fix: point it at "
            "the environment's key of the artifact-repositories ConfigMap"
        )
    if not reference:
        return
    config = bundle.named("ConfigMap").get(str(reference.get("configMap")))
    value = ((config.body.get("data") or {}) if config else {}).get(str(reference.get("key")))
    if value is None:
        yield f"spec.artifactRepositoryRef: {reference} is not a ConfigMap key in the bundle"
        return
    azure = (yaml.safe_load(value) or {}).get("azure") or {}
    if not azure.get("useSDKCreds") or "accountKeySecret" in azure:
        yield (
            f"spec.artifactRepositoryRef: {reference} is not Azure Blob with Entra ID auth; "
            "fix: azure.useSDKCreds: true and no accountKeySecret (shared keys are disabled)"
        )


def _pinned_images(spec: dict[str, Any]) -> Iterator[str]:
    for label, template, _ in templates(spec):
        container = template.get("container") or template.get("script")
        image = str((container or {}).get("image", ""))
        if container is None or _DIGEST_IMAGE.fullmatch(image):
            continue
        if "{{" in image or image_problem(image) is None:  # an invalid reference is reported as such already
            yield (
                f"template {label}: image {container.get('image')!r} is not a literal pinned by digest: a "
                "submitter or a moved tag picks what runs with the step's identity; fix: repo:tag@sha256:<digest>"
            )


def _client_accounts(bundle: Bundle) -> set[str]:
    return {
        name
        for name, doc in bundle.named("ServiceAccount").items()
        if CLIENT_ID in ((doc.body.get("metadata") or {}).get("annotations") or {})
    }


def _identities(spec: dict[str, Any], bundle: Bundle) -> Iterator[str]:
    appliers = {_account(t, spec) for _, t, _ in templates(spec) if TERRAFORM_APPLY.search(command_text(t))}
    identities = _client_accounts(bundle)
    for label, template, named in templates(spec):
        text = command_text(template)
        if TERRAFORM_APPLY.search(text):
            if named:
                # docs/workflow-restrictions.md: `entrypoint` and `arguments` stay allow-listed under Secure.
                yield (
                    f"template {label}: runs terraform apply as a named template, which a submitter can start "
                    "with --entrypoint and a crafted plan, skipping plan and approval; fix: inline it in the DAG"
                )
            continue
        account = _account(template, spec)
        if account in appliers and (_TERRAFORM_PLAN.search(text) or _SYNTH.search(text)):
            yield (
                f"template {label}: plans or synthesizes as {account}, the apply identity (pull requests run "
                "this); fix: give it the read-only plan account"
            )
        skipped = SKIP_MAIN in ((template.get("metadata") or {}).get("annotations") or {})
        if _SYNTH.search(text) and account in identities and not skipped:
            yield (
                f"template {label}: runs the checked-out code with {account}'s Azure token; fix: annotate the "
                f"template {SKIP_MAIN}: main (the executor still uploads artifacts)"
            )


def _apply(spec: dict[str, Any]) -> Iterator[str]:
    appliers = [(label, command_text(t)) for label, t, _ in templates(spec) if TERRAFORM_APPLY.search(command_text(t))]
    if appliers and not (spec.get("synchronization") or {}).get("mutexes"):
        yield (
            "spec: applies without synchronization.mutexes: two runs of one environment interleave and an older "
            "plan can be approved after a newer apply; fix: a mutex named after the template"
        )
    for label, text in appliers:
        if "sha256sum" not in text:
            yield (
                f"template {label}: applies a plan without checking its sha256 against the one recorded at plan "
                "time (the artifact store is writable by others); fix: compare before apply"
            )
        if "-lockfile=readonly" not in text:
            yield (
                f"template {label}: does not re-init from the lock file: provider binaries from the artifact run "
                "with the apply identity; fix: terraform init -lockfile=readonly, and ship no .terraform"
            )
        if "state pull" not in text:
            yield (
                f"template {label}: does not check that the state serial is the plan's; fix: compare "
                "`terraform state pull` serial with the plan's"
            )
    for label, template, _ in templates(spec):
        text = command_text(template)
        if "retryStrategy" in template and _TERRAFORM_PLAN.search(text) and "-lock=false" not in text:
            yield (
                f"template {label}: retries a plan that takes the state lock: after a killed attempt every retry "
                "waits on the stale lock; fix: plan -lock=false (read-only; the mutex serialises runs)"
            )


def _single_checkout(spec: dict[str, Any]) -> Iterator[str]:
    floating = [
        label
        for label, template, _ in templates(spec)
        for artifact in (template.get("inputs") or {}).get("artifacts") or []
        if "workflow.parameters" in str((artifact.get("git") or {}).get("revision", ""))
    ]
    if len(floating) > 1:
        yield (
            f"templates {', '.join(floating)} each clone a workflow parameter revision: a push between steps "
            "mixes commits; fix: resolve the commit once (first step's output) and pass it to the others"
        )
