"""Argo Workflows controller settings and the artifact repositories the pipelines use.

``templateReferencing: Secure`` makes the controller run only Workflows that reference a
WorkflowTemplate, lets a submitter set only allow-listed fields on top of it (not
``serviceAccountName``, ``templates``, ``podSpecPatch``...), and errors a run whose template
changed underneath it (argo-workflows v4.1.2 docs/workflow-restrictions.md; config/config.go
``TemplateReferencing``). It is a controller-wide setting in ``workflow-controller-configmap``.
"""

from __future__ import annotations

from typing import Any

import yaml

from pipelines.settings import Settings
from pipelines.steps import ARTIFACT_REPOSITORIES, LABELS

CONTROLLER_CONFIGMAP = "workflow-controller-configmap"
RESTRICTIONS = "templateReferencing: Secure\n"


def controller_restrictions(settings: Settings) -> dict[str, Any]:
    """The controller's ConfigMap key; merge it if the controller's config is managed elsewhere (Helm)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONTROLLER_CONFIGMAP, "namespace": settings.controller_namespace, "labels": LABELS},
        "data": {"workflowRestrictions": RESTRICTIONS},
    }


def artifact_repositories(settings: Settings) -> dict[str, Any]:
    """One Azure Blob repository per environment: ``[runners].artifact_container`` in its state account.

    Entra ID auth (``useSDKCreds``: the pod's workload identity), no account key
    (argo-workflows v4.1.2 docs/configure-artifact-repository.md, "Azure Blob"; the key names are
    ``artifactRepositoryRef.key`` of each WorkflowTemplate).
    """
    repositories = {
        env.name: {
            "azure": {
                "endpoint": f"https://{env.state_account}.blob.core.windows.net",
                "container": env.artifact_container,
                "useSDKCreds": True,
            }
        }
        for env in settings.environments
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": ARTIFACT_REPOSITORIES, "namespace": settings.namespace, "labels": LABELS},
        "data": {name: yaml.safe_dump(value, sort_keys=False) for name, value in repositories.items()},
    }


def build(settings: Settings) -> list[dict[str, Any]]:
    return [controller_restrictions(settings), artifact_repositories(settings)]
