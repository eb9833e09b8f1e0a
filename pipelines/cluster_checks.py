"""Rules for the objects around the workflows: secret store, RBAC, controller settings, events, pods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from pipelines.bundle import Bundle, Document, walk

TENANT_ANNOTATION = "azure.workload.identity/tenant-id"
_WEBHOOK_SOURCES = ("github", "gitlab", "bitbucket", "bitbucketserver", "webhook", "gitea")
_ZERO_COMMIT = "0" * 40


def cluster_policy(doc: Document, bundle: Bundle) -> Iterator[str]:
    spec = doc.body.get("spec") or {}
    if doc.kind in ("SecretStore", "ClusterSecretStore"):
        yield from _store_tenant(spec, bundle)
    elif doc.kind in ("Role", "ClusterRole"):
        yield from _submit_or_approve(doc.body.get("rules") or [])
    elif doc.kind == "ConfigMap" and doc.name == "workflow-controller-configmap":
        yield from _restrictions(doc.body.get("data") or {})
    elif doc.kind == "EventSource":
        yield from _payload_size(spec)
    elif doc.kind == "Sensor":
        yield from _deletions(spec, bundle)
    if doc.kind in ("EventSource", "Sensor") and not (spec.get("template") or {}).get("securityContext"):
        yield "spec.template.securityContext: missing; fix: runAsNonRoot: true and a non-zero runAsUser"
    yield from _security_contexts(doc)


def _store_tenant(spec: dict[str, Any], bundle: Bundle) -> Iterator[str]:
    azure = (spec.get("provider") or {}).get("azurekv") or {}
    account = bundle.named("ServiceAccount").get(str((azure.get("serviceAccountRef") or {}).get("name")))
    annotations = ((account.body.get("metadata") or {}).get("annotations") or {}) if account else {}
    if azure.get("authType") == "WorkloadIdentity" and "tenantId" in azure and TENANT_ANNOTATION in annotations:
        # external-secrets v2.9.0 providers/v1/azure/keyvault/keyvault.go errMultipleTenantID.
        yield (
            f"spec.provider.azurekv.tenantId: ServiceAccount {account.name if account else '?'} already carries "
            f"{TENANT_ANNOTATION}; ESO refuses both ('multiple tenantID found') and the store never becomes "
            "Ready; fix: drop tenantId (ESO's workload identity example)"
        )


def _workflow_verbs(rules: list[dict[str, Any]]) -> set[str]:
    return {
        verb
        for rule in rules
        if {"argoproj.io", "*"} & set(rule.get("apiGroups") or [])
        and {"workflows", "*"} & set(rule.get("resources") or [])
        for verb in rule.get("verbs") or []
    }


def _submit_or_approve(rules: list[dict[str, Any]]) -> Iterator[str]:
    verbs = _workflow_verbs(rules)
    if {"create", "*"} & verbs and {"update", "patch", "*"} & verbs:
        # Resume and `node set` are workflow updates (argo-workflows v4.1.2 workflow/util/util.go).
        yield (
            "rules: one Role both creates workflows and updates them (resume, node set): whoever holds it "
            "approves their own run; fix: separate submitter (create) and approver (update, patch) Roles"
        )


def _restrictions(data: dict[str, Any]) -> Iterator[str]:
    restrictions = yaml.safe_load(str(data.get("workflowRestrictions") or "")) or {}
    if restrictions.get("templateReferencing") != "Secure":
        # argo-workflows v4.1.2 docs/workflow-restrictions.md; config/config.go TemplateReferencing.
        yield (
            "data.workflowRestrictions: templateReferencing is not Secure: submitters can run their own "
            "templates or override the referenced one; fix: 'templateReferencing: Secure'"
        )


def _payload_size(spec: dict[str, Any]) -> Iterator[str]:
    for source in _WEBHOOK_SOURCES:
        for event, config in (spec.get(source) or {}).items():
            webhook = config.get("webhook") if source != "webhook" else config
            if isinstance(webhook, dict) and "maxPayloadSize" not in webhook:
                # argo-events pkg/apis/events/v1alpha1/webhook_context.go DefaultMaxWebhookPayloadSize.
                yield (
                    f"spec.{source}.{event}: no maxPayloadSize: deliveries over 1 MiB (Argo Events' default) "
                    "are refused; fix: set it (GitHub sends up to 25 MB)"
                )


def _deletions(spec: dict[str, Any], bundle: Bundle) -> Iterator[str]:
    sources = bundle.named("EventSource")
    for dep in spec.get("dependencies") or []:
        source = sources.get(str(dep.get("eventSourceName")))
        github = ((source.body.get("spec") or {}).get("github") or {}) if source else {}
        event = github.get(str(dep.get("eventName"))) or {}
        if "push" not in (event.get("events") or []):
            continue
        filters = (dep.get("filters") or {}).get("data") or []
        deleted = any(f.get("path") == "body.deleted" and f.get("value") == ["false"] for f in filters)
        zero = any(
            f.get("path") == "body.after" and f.get("comparator") == "!=" and _ZERO_COMMIT in str(f) for f in filters
        )
        if not (deleted or zero):
            # GitHub sends a push event with deleted: true and after: 000... when a branch is deleted.
            yield (
                f"dependency {dep.get('name')}: no data filter drops branch deletions; fix: "
                "{path: body.deleted, type: bool, value: ['false']}"
            )


def _security_contexts(doc: Document) -> Iterator[str]:
    for path, key, value in walk(doc.body):
        if key != "securityContext" or not isinstance(value, dict):
            continue
        pod_level = "fsGroup" in value or path.endswith(("spec.securityContext", "template.securityContext"))
        if value.get("runAsUser") == 0 or value.get("runAsNonRoot") is False:
            yield f"{path}: runs as root; fix: runAsNonRoot: true and a non-zero runAsUser"
        elif pod_level and not (value.get("runAsNonRoot") is True and value.get("runAsUser")):
            yield f"{path}: root not excluded; fix: runAsNonRoot: true and a non-zero runAsUser"
