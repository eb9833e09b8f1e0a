"""Argo Events: a GitHub push webhook (signed with a shared secret) and the Sensor that submits
the infra pipeline for pushes to the branch that touch infrastructure paths.

Built as plain dicts: hera's event models drop unknown fields silently.

Filters (argo-events pkg/sensors/dependencies/filter.go): every filter kind must pass. The data
filters keep branch pushes only: the exact ref (a string value is an unanchored regular
expression, ``filterData``, hence ``^...$``), not a deletion (``deleted`` is true and ``after`` is
forty zeros when a branch is deleted). The Lua script (``filterScript``; the payload becomes the
global ``event``, ``transform.go`` mapToTable) only looks for infrastructure paths.
"""

from __future__ import annotations

import re
from typing import Any

from pipelines import infra
from pipelines.access import EVENTSOURCE_ACCOUNT, SENSOR_ACCOUNT
from pipelines.external_secrets import GITHUB_WEBHOOK
from pipelines.settings import Settings
from pipelines.steps import RUNNER_UID, template_name

EVENTSOURCE = "github"
EVENT = "push"
SENSOR = "infra-on-push"
PORT = 12000

ZERO_COMMIT = "0" * 40
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": RUNNER_UID,
    "runAsGroup": RUNNER_UID,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _events_object(settings: Settings, kind: str, name: str, account: str, spec: dict[str, Any]) -> dict[str, Any]:
    """An Argo Events object whose pods run non-root under their own ServiceAccount."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": settings.namespace},
        "spec": {"template": {"serviceAccountName": account, "securityContext": POD_SECURITY}, **spec},
    }


def event_source(settings: Settings) -> dict[str, Any]:
    owner, repository = settings.repository_owner_and_name
    return _events_object(
        settings,
        "EventSource",
        EVENTSOURCE,
        EVENTSOURCE_ACCOUNT,
        {
            "service": {"ports": [{"name": "webhook", "port": PORT}]},
            "github": {
                EVENT: {
                    "repositories": [{"owner": owner, "names": [repository]}],
                    "events": ["push"],
                    "webhook": {
                        "endpoint": "/push",
                        "port": str(PORT),
                        "method": "POST",
                        "url": settings.webhook_url,
                        # Default 1 MiB (argo-events pkg/apis/events/v1alpha1/webhook_context.go
                        # DefaultMaxWebhookPayloadSize); a large push's payload is bigger.
                        "maxPayloadSize": settings.webhook_max_payload_bytes,
                    },
                    # GitHub signs each delivery with this secret; unsigned or mis-signed posts are dropped.
                    "webhookSecret": {"name": GITHUB_WEBHOOK, "key": "secret"},
                    "contentType": "json",
                    "insecure": False,
                    "active": True,
                }
            },
        },
    )


def branch_filters(settings: Settings) -> list[dict[str, Any]]:
    """Data filters: a push to exactly the branch, never a branch deletion."""
    return [
        {"path": "body.ref", "type": "string", "value": [f"^{re.escape('refs/heads/' + settings.branch)}$"]},
        {"path": "body.deleted", "type": "bool", "value": ["false"]},
        {"path": "body.after", "type": "string", "value": [f"^{ZERO_COMMIT}$"], "comparator": "!="},
    ]


def push_filter(settings: Settings) -> str:
    """Lua: some commit of the push adds, changes or removes a path under an infrastructure prefix."""
    prefixes = ", ".join(f'"{prefix}"' for prefix in settings.infra_paths)
    return f"""\
local prefixes = {{{prefixes}}}
for _, commit in ipairs(event.body.commits or {{}}) do
  for _, field in ipairs({{"added", "modified", "removed"}}) do
    for _, path in ipairs(commit[field] or {{}}) do
      for _, prefix in ipairs(prefixes) do
        if string.sub(path, 1, #prefix) == prefix then return true end
      end
    end
  end
end
return false
"""


def sensor(settings: Settings) -> dict[str, Any]:
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": f"{infra.NAME}-{settings.push_environment}-", "namespace": settings.namespace},
        "spec": {
            "workflowTemplateRef": {"name": template_name(infra.NAME, settings.environment(settings.push_environment))},
            "arguments": {"parameters": [{"name": "revision", "value": settings.branch}]},
        },
    }
    return _events_object(
        settings,
        "Sensor",
        SENSOR,
        SENSOR_ACCOUNT,
        {
            "dependencies": [
                {
                    "name": EVENT,
                    "eventSourceName": EVENTSOURCE,
                    "eventName": EVENT,
                    "filters": {"data": branch_filters(settings), "script": push_filter(settings)},
                }
            ],
            "triggers": [
                {
                    "template": {
                        "name": "submit-infra",
                        "k8s": {
                            "operation": "create",
                            "source": {"resource": workflow},
                            # The pushed commit, so the run plans exactly what was merged.
                            "parameters": [
                                {
                                    "src": {"dependencyName": EVENT, "dataKey": "body.after"},
                                    "dest": "spec.arguments.parameters.0.value",
                                }
                            ],
                        },
                    },
                    "retryStrategy": {"steps": 3, "duration": "10s", "factor": 2},
                }
            ],
        },
    )


def build(settings: Settings) -> list[dict[str, Any]]:
    return [event_source(settings), sensor(settings)]
