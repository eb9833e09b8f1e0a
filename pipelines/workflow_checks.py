"""Reference checks inside Argo workflow specs: what the schema cannot see.

Entrypoints and task templates exist; every ``{{...}}`` reference resolves; every consumed
artifact or parameter is produced; an artifact passed between tasks is restored at the path it
was saved from (a Terraform working directory only works where it was planned); images are
valid, pinned references; shell scripts carry no pasted templating; applies are never retried.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pipelines.bundle import Bundle

_REF = re.compile(r"\{\{\s*([^{}=][^{}]*?)\s*\}\}")
_TASK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_ARTIFACT_SOURCES = ("git", "s3", "http", "raw", "artifactory", "hdfs", "oss", "gcs", "azure", "plugin")
_SHELLS = ("sh", "bash", "/bin/sh", "/bin/bash")
TERRAFORM_APPLY = re.compile(r"\bterraform\s+(?:-chdir=\S+\s+)?apply\b")

# docker/distribution reference grammar: [domain[:port]/]path[:tag][@digest]
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?"
IMAGE_REFERENCE = re.compile(
    rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)


def image_problem(image: str) -> str | None:
    """Why ``image`` is not a valid, pinned reference (None when it is)."""
    match = IMAGE_REFERENCE.fullmatch(image)
    if match is None:
        return f"image {image!r} is not a valid reference; fix: use registry/path:tag or registry/path@sha256:<digest>"
    if not match["digest"] and (not match["tag"] or match["tag"] == "latest"):
        return f"image {image!r} is not pinned; fix: add a version tag or an @sha256 digest"
    return None


def _refs(node: Any) -> list[str]:
    return _REF.findall(json.dumps(node))


def _names(items: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items or [] if isinstance(item, dict) and "name" in item}


class SpecChecker:
    """Checks one workflow spec (a WorkflowTemplate's, a CronWorkflow's or a triggered Workflow's)."""

    def __init__(self, spec: dict[str, Any], bundle: Bundle) -> None:
        self.spec, self.bundle = spec, bundle
        self.templates = _names(spec.get("templates"))
        self.parameters = _names((spec.get("arguments") or {}).get("parameters"))

    def problems(self) -> Iterator[str]:
        reference = self.spec.get("workflowTemplateRef")
        if reference is not None:
            yield from self._template_ref(reference)
            return
        entrypoint = self.spec.get("entrypoint")
        if entrypoint not in self.templates:
            yield f"spec.entrypoint: {entrypoint!r} names no template; fix: use one of {sorted(self.templates)}"
        for name, template in self.templates.items():
            yield from (f"template {name}: {problem}" for problem in self._template(template))

    def _template_ref(self, reference: dict[str, Any]) -> Iterator[str]:
        target = self.bundle.named("WorkflowTemplate").get(reference.get("name", ""))
        if target is None:
            yield f"workflowTemplateRef {reference.get('name')!r} is not in the bundle; fix: render it or fix the name"
            return
        declared = _names((target.body["spec"].get("arguments") or {}).get("parameters"))
        for name, param in self.parameters.items():
            if name not in declared:
                yield f"argument {name!r} is not a parameter of {target.name}; fix: use one of {sorted(declared)}"
            elif "enum" in declared[name] and param.get("value") not in declared[name]["enum"]:
                yield f"argument {name}={param.get('value')!r} is outside {target.name}'s enum {declared[name]['enum']}"
        for name, param in declared.items():
            if not ({"value", "default", "valueFrom"} & param.keys()) and name not in self.parameters:
                yield f"parameter {name!r} of {target.name} has no value and is not supplied; fix: pass it"

    def _template(self, template: dict[str, Any]) -> Iterator[str]:
        inputs = template.get("inputs") or {}
        in_params, in_artifacts = _names(inputs.get("parameters")), _names(inputs.get("artifacts"))
        tasks = self._tasks(template)
        for ref in _refs({k: v for k, v in template.items() if k not in ("dag", "steps")}):
            yield from self._local_ref(ref, in_params, in_artifacts)
        for name, task in tasks.items():
            yield from (f"task {name}: {problem}" for problem in self._task(task, tasks))
        for key in ("container", "script"):
            if key in template:
                yield from self._container(template[key], template)

    @staticmethod
    def _tasks(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
        if "dag" in template:
            return _names(template["dag"].get("tasks"))
        steps = [step for group in template.get("steps") or [] for step in group]
        return _names(steps)

    def _local_ref(self, ref: str, params: dict[str, Any], artifacts: dict[str, Any]) -> Iterator[str]:
        scope, _, rest = ref.partition(".")
        if scope == "inputs" and rest.startswith("parameters.") and rest[11:] not in params:
            yield f"{{{{{ref}}}}} is not an input parameter of this template; fix: declare it under inputs.parameters"
        elif scope == "inputs" and rest.startswith("artifacts.") and rest[10:] not in artifacts:
            yield f"{{{{{ref}}}}} is not an input artifact of this template; fix: declare it under inputs.artifacts"
        elif scope == "workflow" and rest.startswith("parameters.") and rest[11:] not in self.parameters:
            yield f"{{{{{ref}}}}} is not a workflow parameter; fix: declare it under spec.arguments.parameters"

    def callee(self, task: dict[str, Any]) -> dict[str, Any] | None:
        """The template a task runs: named, or inline (then named after the task)."""
        if isinstance(task.get("inline"), dict):
            return {"name": f"{task.get('name')} (inline)", **task["inline"]}
        return self.templates.get(task.get("template", ""))

    def _task(self, task: dict[str, Any], tasks: dict[str, dict[str, Any]]) -> Iterator[str]:
        callee = self.callee(task)
        if callee is None:
            yield f"template {task.get('template')!r} does not exist; fix: use one of {sorted(self.templates)}"
            return
        if "inline" in task:
            yield from self._template(callee)
        depends = f"{task.get('depends', '')} {' '.join(task.get('dependencies') or [])}"
        for name in _TASK_NAME.findall(re.sub(r"\.\w+", "", depends)):
            if name not in tasks:
                yield f"depends on {name!r}, which is not a task here"
        for ref in _refs({k: v for k, v in task.items() if k not in ("name", "inline")}):
            if ref.startswith("workflow."):
                yield from self._local_ref(ref, {}, {})
            yield from self._output_ref(ref, tasks)
        yield from self._arguments(task, callee, tasks)

    def _output_ref(self, ref: str, tasks: dict[str, dict[str, Any]]) -> Iterator[str]:
        match = re.fullmatch(r"(?:tasks|steps)\.([\w-]+)\.outputs\.(parameters|artifacts)\.([\w-]+)", ref)
        if match is None:
            if ref.startswith(("tasks.", "steps.")):
                yield f"{{{{{ref}}}}} is not a task output reference"
            return
        producer_name, kind, name = match.groups()
        producer = tasks.get(producer_name)
        if producer is None:
            yield f"{{{{{ref}}}}}: no task {producer_name!r} produces it"
            return
        produced = _names(((self.callee(producer) or {}).get("outputs") or {}).get(kind))
        if name not in produced:
            what = f"output {kind[:-1]} {name!r}"
            yield f"{{{{{ref}}}}}: task {producer_name} produces no {what}; fix: add it to its outputs"

    def _arguments(self, task: dict[str, Any], callee: dict[str, Any], tasks: dict[str, Any]) -> Iterator[str]:
        arguments = task.get("arguments") or {}
        inputs = callee.get("inputs") or {}
        for kind in ("parameters", "artifacts"):
            given, declared = _names(arguments.get(kind)), _names(inputs.get(kind))
            for name in given.keys() - declared.keys():
                yield f"argument {kind[:-1]} {name!r} is not an input of template {callee['name']}"
            for name, spec in declared.items():
                supplied = {"value", "default", "valueFrom", "optional", *_ARTIFACT_SOURCES} & spec.keys()
                if name not in given and not supplied:
                    yield f"input {kind[:-1]} {name!r} of template {callee['name']} is consumed but nothing supplies it"
        for name, artifact in _names(arguments.get("artifacts")).items():
            yield from self._same_path(task, callee, name, artifact, tasks)

    def _same_path(
        self, task: dict[str, Any], callee: dict[str, Any], name: str, artifact: dict[str, Any], tasks: dict[str, Any]
    ) -> Iterator[str]:
        match = re.fullmatch(
            r"\{\{(?:tasks|steps)\.([\w-]+)\.outputs\.artifacts\.([\w-]+)\}\}", artifact.get("from", "")
        )
        if match is None or match[1] not in tasks:
            return
        producer_task = tasks[match[1]]
        producer = self.callee(producer_task) or {}
        saved = _names((producer.get("outputs") or {}).get("artifacts")).get(match[2], {}).get("path")
        restored = _names((callee.get("inputs") or {}).get("artifacts")).get(name, {}).get("path")
        saved, restored = _resolve(saved, producer_task), _resolve(restored, task)
        if saved and restored and saved != restored:
            yield (
                f"artifact {name!r} is saved at {saved} by task {match[1]} but restored at {restored}; "
                "fix: restore it at the same absolute path"
            )

    def _container(self, container: dict[str, Any], template: dict[str, Any]) -> Iterator[str]:
        image = str(container.get("image", ""))
        param = re.fullmatch(r"\{\{workflow\.parameters\.([\w-]+)\}\}", image)
        if param is not None:
            image = str(self.parameters.get(param[1], {}).get("value", ""))
        if (problem := image_problem(image)) is not None:
            yield problem
        command = container.get("command") or []
        if command and command[0] in _SHELLS and _refs(container.get("args")):
            yield 'templating is pasted into a shell script; fix: pass it as an env variable and quote "$VAR"'
        text = " ".join(map(str, [*command, *(container.get("args") or [])]))
        if "retryStrategy" in template and TERRAFORM_APPLY.search(text):
            yield "retries a terraform apply; fix: remove retryStrategy (a partial apply leaves the plan stale)"


def _resolve(path: str | None, task: dict[str, Any]) -> str | None:
    """``path`` with the task's own ``{{inputs.parameters.x}}`` arguments filled in."""
    if path is None:
        return None
    values = {p["name"]: str(p.get("value", "")) for p in (task.get("arguments") or {}).get("parameters") or []}
    return re.sub(r"\{\{inputs\.parameters\.([\w-]+)\}\}", lambda m: values.get(m[1], m[0]), path)
