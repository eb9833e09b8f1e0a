"""The README's identity table, rendered from the same functions the access stack uses.

tests/stacks/test_access_properties.py renders it for config/prod.toml (the environment the
pipelines run) and fails, printing the expected table, when README.md differs.
"""

from __future__ import annotations

import dataclasses

from stacks.access_grants import RUNS_IN, JobGrants, job_grants, job_subjects
from stacks.config import EnvironmentConfig
from stacks.constructs.data_bootstrap_access import DATA_BOOTSTRAP_GRANTS
from stacks.constructs.unload_access import SNOWFLAKE_INTEGRATION_ROLE
from stacks.naming import DATA_BOOTSTRAP, JOBS_WITH_IDENTITY, identity_name

ENV_PLACEHOLDER = "<env>"
# Scope placeholders: what each grant's scope is, in words.
SCOPE_LABELS = JobGrants(
    platform_resource_group_id="platform resource group",
    runners_resource_group_id="runner identities' resource group",
    state_container_id="state container",
    artifact_container_id="artifact container",
    deployer_role_id="platform deployer (custom: the stacks' resource providers)",
    runner_network_role_id="runner network peering (custom: peer, join, read)",
)
CONDITION_NOTE = " (ABAC condition: only the roles the stacks assign, to service principals)"
DATA_BOOTSTRAP_SCOPE_LABELS = {"workspace": "workspace", "key_vault": "Key Vault", "raw_container": "raw container"}
UNLOAD_ONLY = ' (only with `[data_asset].engine = "unload"`)'
APPROVER_LABEL = "storage private endpoint approver (custom: list and approve private endpoint connections)"


def _scope_label(scope: str, config: EnvironmentConfig) -> str:
    if scope == config.runners.virtual_network_id:
        return "runner VNet"
    vault = config.runners.automation_key_vault_id
    if vault and scope.startswith(f"{vault}/secrets/"):
        return f"automation vault secret `{scope.rsplit('/', 1)[1]}`"
    return scope


def identity_rows(config: EnvironmentConfig) -> list[tuple[str, str, str, str]]:
    """(identity, runs in, federated subjects, roles on scopes) per job, with ``<env>`` for the environment."""
    generic = dataclasses.replace(config, environment=dataclasses.replace(config.environment, name=ENV_PLACEHOLDER))
    rows = []
    for job in JOBS_WITH_IDENTITY:
        subjects = "<br>".join(f"`{spec.subject}`" for spec in job_subjects(job, generic).values())
        grants = [
            f"{spec.role_definition_name or spec.role_definition_id}{CONDITION_NOTE if spec.condition else ''}"
            f" on {_scope_label(spec.scope, config)}"
            for spec in job_grants(job, generic, SCOPE_LABELS).values()
        ]
        if job == DATA_BOOTSTRAP:
            grants += [
                f"{role} on {DATA_BOOTSTRAP_SCOPE_LABELS[target]}" for role, target, _ in DATA_BOOTSTRAP_GRANTS.values()
            ]
            grants.append(f"{APPROVER_LABEL} on storage account{UNLOAD_ONLY}")
        name = identity_name(config.environment.project, job, ENV_PLACEHOLDER)
        rows.append((f"`{name}`", RUNS_IN[job], subjects, "<br>".join(grants)))
    return [*rows, _snowflake_integration_row(config)]


def _snowflake_integration_row(config: EnvironmentConfig) -> tuple[str, str, str, str]:
    """Not ours: the service principal of Snowflake's app, granted by the ML platform stack."""
    unload = config.unload
    return (
        f"Snowflake storage integration `{unload.storage_integration}` (its service principal, "
        "`[unload].integration_principal_id`)",
        f"Snowflake: `COPY INTO @{unload.stage}` of the unload engine, over Snowflake's private endpoint",
        "none: Snowflake's multi-tenant app, consented in our tenant",
        f"{SNOWFLAKE_INTEGRATION_ROLE} on raw container (once `integration_principal_id` is set)",
    )


def identity_table(config: EnvironmentConfig) -> str:
    lines = ["| identity | runs in | federated subject | roles |", "| --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(row)} |" for row in identity_rows(config)]
    return "\n".join(lines)
