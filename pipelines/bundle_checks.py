"""Cross-document checks: every name one object references exists in the bundle, and nothing
in it looks like a secret value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pipelines.bundle import Bundle, Document, walk
from pipelines.workflow_checks import SpecChecker

# Keys whose value is a {name, key} reference to a Kubernetes Secret.
SECRET_SELECTORS = {
    "secretKeyRef",
    "usernameSecret",
    "passwordSecret",
    "sshPrivateKeySecret",
    "webhookSecret",
    "apiToken",
    "authSecret",
    "serverCertSecret",
    "serverKeySecret",
    "accessKeySecret",
    "secretKeySecret",
}
SECRET_LOOKING = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a PEM private key"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}"), "a GitHub token"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\."), "a JSON web token"),
    (re.compile(r"AccountKey=|SharedAccessSignature=|[?&]sig=[A-Za-z0-9%+/=]{20,}"), "a storage key or SAS"),
    (re.compile(r"[A-Za-z0-9_~.-]{3}8Q~[A-Za-z0-9_~.-]{31,34}"), "an Entra client secret"),
]
_SECRET_ENV_NAME = re.compile(r"SECRET|PASSWORD|PASSPHRASE|TOKEN$|PRIVATE_KEY|ACCESS_KEY", re.IGNORECASE)
_CLIENT_SECRET = re.compile(r"(ARM|AZURE)_CLIENT_(SECRET|CERTIFICATE)", re.IGNORECASE)


def secret_keys(bundle: Bundle) -> dict[str, set[str]]:
    """Secrets the bundle creates (through External Secrets) and the keys each holds."""
    created: dict[str, set[str]] = {}
    for doc in bundle.documents:
        if doc.kind == "ExternalSecret":
            spec = doc.body.get("spec") or {}
            name = (spec.get("target") or {}).get("name") or doc.name
            created[name] = {item.get("secretKey", "") for item in spec.get("data") or []}
        elif doc.kind == "Secret":
            created[doc.name] = set((doc.body.get("data") or {}) | (doc.body.get("stringData") or {}))
    return created


def _configmap_keys(bundle: Bundle) -> dict[str, set[str]]:
    return {name: set(doc.body.get("data") or {}) for name, doc in bundle.named("ConfigMap").items()}


def _expand(key: str, parameters: dict[str, dict[str, Any]]) -> list[str]:
    """A key holding ``{{workflow.parameters.x}}``, once per value the parameter may take."""
    match = re.search(r"\{\{workflow\.parameters\.([\w-]+)\}\}", key)
    if match is None:
        return [key]
    param = parameters.get(match[1], {})
    values = param.get("enum") or ([param["value"]] if "value" in param else [])
    return [expanded for value in values for expanded in _expand(key.replace(match[0], str(value)), parameters)]


def references(doc: Document, bundle: Bundle) -> Iterator[str]:
    secrets, configmaps = secret_keys(bundle), _configmap_keys(bundle)
    accounts = bundle.named("ServiceAccount")
    spec = doc.body.get("spec") or {}
    parameters = {p.get("name"): p for p in (spec.get("arguments") or {}).get("parameters") or []}
    for path, key, value in walk(doc.body):
        if key in SECRET_SELECTORS and isinstance(value, dict):
            name, wanted = value.get("name"), value.get("key")
            if name not in secrets:
                yield f"{path}: Secret {name!r} is not created by this bundle; fix: add an ExternalSecret for it"
            elif wanted not in secrets[name]:
                yield f"{path}: Secret {name!r} has no key {wanted!r}; it holds {sorted(secrets[name])}"
        elif key == "configMapKeyRef" and isinstance(value, dict):
            name = value.get("name")
            if name not in configmaps:
                yield f"{path}: ConfigMap {name!r} is not in the bundle"
                continue
            for expanded in _expand(str(value.get("key")), parameters):
                if expanded not in configmaps[name]:
                    yield f"{path}: ConfigMap {name!r} has no key {expanded!r}"
        elif key == "serviceAccountName" or (key == "serviceAccountRef" and isinstance(value, dict)):
            name = value.get("name") if isinstance(value, dict) else value
            if name not in accounts:
                yield f"{path}: ServiceAccount {name!r} is not in the bundle"


def secret_literals(doc: Document) -> Iterator[str]:
    for path, key, value in walk(doc.body):
        if isinstance(value, str):
            for pattern, what in SECRET_LOOKING:
                if pattern.search(value):
                    yield f"{path}: looks like {what}; fix: keep it in Key Vault and reference it"
        if key == "name" and isinstance(value, str) and _CLIENT_SECRET.search(value):
            yield f"{path}: {value} is a client credential; fix: use workload identity, no client secrets"
        elif key == "env" and isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and "value" in item and _SECRET_ENV_NAME.search(str(item.get("name"))):
                    yield f"{path}: env {item.get('name')} has a literal value; fix: use valueFrom.secretKeyRef"


def kind_checks(doc: Document, bundle: Bundle) -> Iterator[str]:
    """Per-kind references: workflow specs, Sensor triggers and dependencies, secret stores."""
    spec = doc.body.get("spec") or {}
    if doc.kind in ("WorkflowTemplate", "Workflow", "ClusterWorkflowTemplate"):
        yield from SpecChecker(spec, bundle).problems()
    elif doc.kind == "CronWorkflow":
        yield from (f"workflowSpec: {p}" for p in SpecChecker(spec.get("workflowSpec") or {}, bundle).problems())
    elif doc.kind == "Sensor":
        yield from _sensor(spec, bundle)
    elif doc.kind == "ExternalSecret":
        store = (spec.get("secretStoreRef") or {}).get("name")
        if store not in bundle.named("SecretStore") and store not in bundle.named("ClusterSecretStore"):
            yield f"spec.secretStoreRef: store {store!r} is not in the bundle"


def _sensor(spec: dict[str, Any], bundle: Bundle) -> Iterator[str]:
    sources = bundle.named("EventSource")
    dependencies = {dep.get("name") for dep in spec.get("dependencies") or []}
    for dep in spec.get("dependencies") or []:
        source = sources.get(dep.get("eventSourceName"))
        events = (
            {event for value in (source.body.get("spec") or {}).values() if isinstance(value, dict) for event in value}
            if source
            else set()
        )
        if dep.get("eventName") not in events:
            source_name, event = dep.get("eventSourceName"), dep.get("eventName")
            yield f"dependency {dep.get('name')}: no EventSource {source_name!r} with event {event!r}"
    for index, trigger in enumerate(spec.get("triggers") or []):
        k8s = (trigger.get("template") or {}).get("k8s") or {}
        resource = (k8s.get("source") or {}).get("resource") or {}
        if resource.get("kind") == "Workflow":
            yield from (
                f"triggers[{index}] workflow: {p}" for p in SpecChecker(resource.get("spec") or {}, bundle).problems()
            )
        for parameter in k8s.get("parameters") or []:
            if (parameter.get("src") or {}).get("dependencyName") not in dependencies:
                yield f"triggers[{index}]: parameter source {parameter.get('src')} names no dependency"
            if not _has_path(resource, str(parameter.get("dest", ""))):
                yield f"triggers[{index}]: parameter dest {parameter.get('dest')!r} is not a field of the resource"


def _has_path(node: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True
