"""Argo Events: a GitHub push webhook (signed with a shared secret) and the Sensor that submits
the infra pipeline for pushes to the branch that touch infrastructure paths.

Built as plain dicts: hera's event models drop unknown fields silently.
"""

from __future__ import annotations

from typing import Any

from pipelines import infra
from pipelines.access import EVENTSOURCE_ACCOUNT, SENSOR_ACCOUNT
from pipelines.external_secrets import GITHUB_WEBHOOK
from pipelines.settings import Settings

EVENTSOURCE = "github"
EVENT = "push"
SENSOR = "infra-on-push"
PORT = 12000

POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
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
                    "webhook": {"endpoint": "/push", "port": str(PORT), "method": "POST", "url": settings.webhook_url},
                    # GitHub signs each delivery with this secret; unsigned or mis-signed posts are dropped.
                    "webhookSecret": {"name": GITHUB_WEBHOOK, "key": "secret"},
                    "contentType": "json",
                    "insecure": False,
                    "active": True,
                }
            },
        },
    )


def push_filter(settings: Settings) -> str:
    """Lua: a push to the branch (not a deletion) whose commits add, change or remove an infra path."""
    prefixes = ", ".join(f'"{prefix}"' for prefix in settings.infra_paths)
    return f"""\
if event.body.ref ~= "refs/heads/{settings.branch}" or event.body.deleted then return false end
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
        "metadata": {"generateName": f"{infra.NAME}-", "namespace": settings.namespace},
        "spec": {
            "workflowTemplateRef": {"name": infra.NAME},
            "arguments": {
                "parameters": [
                    {"name": "environment", "value": settings.push_environment},
                    {"name": "revision", "value": settings.branch},
                ]
            },
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
                    "filters": {"script": push_filter(settings)},
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
                                    "dest": "spec.arguments.parameters.1.value",
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
