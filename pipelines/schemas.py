"""The vendored official schemas (``../shared/schemas``), made strict.

The upstream schemas never forbid unknown keys, so a misplaced key (``volumes`` under a
template's ``inputs``) passes them silently. ``strict()`` adds ``additionalProperties: false``
to every object schema that lists ``properties`` (kubeconform's ``-strict``).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from pipelines.settings import REPO_ROOT

SCHEMAS_ENV = "SHARED_SCHEMAS_DIR"

# (apiVersion, kind) -> (schema file, definition name or CRD version)
ARGO_WORKFLOW_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
ARGO_EVENTS_KINDS = ("Sensor", "EventSource")
ESO_CRDS = {
    "ExternalSecret": "eso-externalsecrets.yaml",
    "SecretStore": "eso-secretstores.yaml",
    "ClusterSecretStore": "eso-clustersecretstores.yaml",
}
ESO_API_VERSION = "external-secrets.io/v1"


class SchemaMissingError(FileNotFoundError):
    """The shared schema folder is not where we look for it."""


def schemas_dir() -> Path:
    """``$SHARED_SCHEMAS_DIR``, else ``shared/schemas`` beside the repository clone."""
    folder = Path(os.environ.get(SCHEMAS_ENV) or REPO_ROOT.parent / "shared" / "schemas")
    if not (folder / "argo-workflows-schema.json").is_file():
        raise SchemaMissingError(
            f"{folder}: the vendored schemas are missing; fix: put shared/schemas beside the clone "
            f"or set {SCHEMAS_ENV} to the folder holding argo-workflows-schema.json"
        )
    return folder


def strict(node: Any) -> Any:
    """A copy of ``node`` in which every object listing ``properties`` forbids other keys."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: strict(value) for key, value in node.items()}
    if (
        isinstance(node.get("properties"), dict)
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        copy["additionalProperties"] = False
    return copy


@functools.cache
def _definitions(file_name: str) -> dict[str, Any]:
    with (schemas_dir() / file_name).open(encoding="utf-8") as handle:
        definitions: dict[str, Any] = json.load(handle)["definitions"]
    return {"definitions": strict(definitions)}


@functools.cache
def _crd_schema(file_name: str, version: str) -> dict[str, Any] | None:
    with (schemas_dir() / file_name).open(encoding="utf-8") as handle:
        crd = yaml.safe_load(handle)
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version and entry.get("served"):
            schema: dict[str, Any] = strict(entry["schema"]["openAPIV3Schema"])
            return schema
    return None


@functools.cache
def _workflow_template_crd() -> dict[str, Any]:
    with (schemas_dir() / "crd-workflowtemplate-openapi.json").open(encoding="utf-8") as handle:
        schema: dict[str, Any] = strict(json.load(handle))
    return schema


def _definition_validator(file_name: str, definition: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/definitions/{definition}", **_definitions(file_name)})


def schema_validators(doc: dict[str, Any]) -> list[Draft202012Validator] | str:
    """The strict validators for a custom resource, or why there is none."""
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if api_version == "argoproj.io/v1alpha1" and kind in ARGO_WORKFLOW_KINDS:
        validators = [_definition_validator("argo-workflows-schema.json", f"io.argoproj.workflow.v1alpha1.{kind}")]
        if kind == "WorkflowTemplate":
            validators.append(Draft202012Validator(_workflow_template_crd()))
        return validators
    if api_version == "argoproj.io/v1alpha1" and kind in ARGO_EVENTS_KINDS:
        return [_definition_validator("argo-events-schema.json", f"io.argoproj.events.v1alpha1.{kind}")]
    if isinstance(kind, str) and kind in ESO_CRDS:
        version = str(api_version).rpartition("/")[2]
        schema = _crd_schema(ESO_CRDS[kind], version)
        if api_version != f"external-secrets.io/{version}" or schema is None:
            return f"apiVersion {api_version!r} is not served for {kind}; use {ESO_API_VERSION!r}"
        return [Draft202012Validator(schema)]
    return f"no vendored schema for {api_version}/{kind}"


def schema_errors(doc: dict[str, Any]) -> Iterator[str]:
    """One line per schema violation: the JSON path and what is wrong there."""
    validators = schema_validators(doc)
    if isinstance(validators, str):
        yield validators
        return
    seen = set()
    for validator in validators:
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            line = f"{_path(error)}: {_message(error)}"
            if line not in seen:
                seen.add(line)
                yield line


def _path(error: ValidationError) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "(document)"


def _message(error: ValidationError) -> str:
    if error.validator == "additionalProperties" and error.validator_value is False:
        allowed = sorted(error.schema.get("properties", {}))
        return f"{error.message}; allowed keys here: {', '.join(allowed)}"
    return str(error.message)
