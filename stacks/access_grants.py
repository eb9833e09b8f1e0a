"""Each job identity's federated subjects and grants: the one table the access stack, the README
and the tests read (docs/access.md explains every row)."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.access_roles import DEPLOYER_ASSIGNABLE_ROLES, deployer_custom_role_ids, role_assignment_condition
from stacks.config import EnvironmentConfig
from stacks.constructs.runner_identities import FederatedSubjectSpec, ScopedGrantSpec
from stacks.naming import (
    ARGO_SERVER,
    AUTOMATION_SECRETS,
    CLUSTER_JOBS,
    DATA_BOOTSTRAP,
    GITHUB_OIDC_ISSUER,
    GITHUB_PLAN,
    INFRA_APPLY,
    INFRA_PLAN,
    SECRETS_READER,
    cluster_job_subject,
    github_subjects,
    kubernetes_subject,
)

# Where each identity runs (README table).
RUNS_IN: dict[str, str] = {
    INFRA_PLAN: "Argo infra pipeline: synth and `terraform plan` steps",
    INFRA_APPLY: "Argo infra pipeline: `terraform apply` of the approved plan",
    DATA_BOOTSTRAP: "Argo data pipeline: `data_bootstrap plan/apply/verify`",
    SECRETS_READER: "External Secrets Operator SecretStore (automation secrets)",
    GITHUB_PLAN: "GitHub Actions pull-request workflow: `terraform plan` job",
    ARGO_SERVER: "Argo server (shows artifacts and archived logs)",
}


@dataclass(frozen=True, kw_only=True)
class JobGrants:
    """The scopes the grants point at (resource IDs, or references to them)."""

    platform_resource_group_id: str
    runners_resource_group_id: str
    state_container_id: str
    artifact_container_id: str
    deployer_role_id: str
    runner_network_role_id: str | None


def job_subjects(job: str, config: EnvironmentConfig) -> dict[str, FederatedSubjectSpec]:
    runners = config.runners
    if job in CLUSTER_JOBS:
        subject = cluster_job_subject(job, config.name, runners.namespace)
        return {"kubernetes": FederatedSubjectSpec(issuer=runners.oidc_issuer_url, subject=subject)}
    if job == ARGO_SERVER:
        namespace, account = runners.argo_server_service_account.split(":")
        subject = kubernetes_subject(namespace, account)
        return {"kubernetes": FederatedSubjectSpec(issuer=runners.oidc_issuer_url, subject=subject)}
    if job == GITHUB_PLAN:
        return {
            f"github-{key}": FederatedSubjectSpec(issuer=GITHUB_OIDC_ISSUER, subject=subject)
            for key, subject in github_subjects(runners.github_repository).items()
        }
    raise ValueError(f"{job!r} has no identity")


def _builtin(scope: str, role: str, why: str) -> ScopedGrantSpec:
    return ScopedGrantSpec(scope=scope, role_definition_name=role, description=why)


def job_grants(job: str, config: EnvironmentConfig, scopes: JobGrants) -> dict[str, ScopedGrantSpec]:
    """Every role assignment of one job identity, keyed by a stable name (part of logical IDs)."""
    runner_vnet = config.runners.virtual_network_id
    read_platform = {
        "platform-reader": _builtin(scopes.platform_resource_group_id, "Reader", "plan refreshes the platform"),
        "runners-reader": _builtin(
            scopes.runners_resource_group_id, "Reader", "plan looks up the data-bootstrap identity"
        ),
        **(
            {"runner-network-reader": _builtin(runner_vnet, "Reader", "plan refreshes the runner-side peering")}
            if runner_vnet
            else {}
        ),
    }
    state_reader = {
        "state-reader": _builtin(scopes.state_container_id, "Storage Blob Data Reader", "reads Terraform state")
    }
    artifacts_writer = {
        "artifacts-writer": _builtin(
            scopes.artifact_container_id, "Storage Blob Data Contributor", "uploads Argo artifacts"
        )
    }
    if job == INFRA_PLAN:
        return {**read_platform, **state_reader, **artifacts_writer}
    if job == GITHUB_PLAN:
        return {**read_platform, **state_reader}
    if job == INFRA_APPLY:
        grants = {
            "deployer": ScopedGrantSpec(
                scope=scopes.platform_resource_group_id,
                role_definition_id=scopes.deployer_role_id,
                description="creates the platform's resources (custom role: its resource providers only)",
            ),
            "role-assignments": ScopedGrantSpec(
                scope=scopes.platform_resource_group_id,
                role_definition_name="Role Based Access Control Administrator",
                condition=role_assignment_condition(DEPLOYER_ASSIGNABLE_ROLES, deployer_custom_role_ids(config)),
                description="assigns only the roles the stacks assign, to service principals",
            ),
            "runners-reader": read_platform["runners-reader"],
            "state-writer": _builtin(
                scopes.state_container_id, "Storage Blob Data Contributor", "writes Terraform state and its lock"
            ),
            **artifacts_writer,
        }
        if runner_vnet and scopes.runner_network_role_id:
            grants["runner-network"] = ScopedGrantSpec(
                scope=runner_vnet,
                role_definition_id=scopes.runner_network_role_id,
                description="peers the runner VNet and links the platform DNS zones to it",
            )
        return grants
    if job == DATA_BOOTSTRAP:
        # Plus the workspace, Key Vault and raw-container grants the platform stack declares
        # (stacks/constructs/data_bootstrap_access.py), where those resources are.
        return {**state_reader, **artifacts_writer}
    if job == SECRETS_READER:
        # Each synced secret only, not the vault: Key Vault RBAC allows secret scope
        # (https://learn.microsoft.com/azure/key-vault/general/rbac-guide, "Best practices for
        # individual keys, secrets, and certificates role assignments").
        return {
            f"secret-{name}": _builtin(
                f"{config.runners.automation_key_vault_id}/secrets/{name}",
                "Key Vault Secrets User",
                f"External Secrets reads {name}",
            )
            for name in AUTOMATION_SECRETS
        }
    if job == ARGO_SERVER:
        return {
            "artifacts-reader": _builtin(
                scopes.artifact_container_id, "Storage Blob Data Reader", "shows Argo artifacts and logs"
            )
        }
    raise ValueError(f"{job!r} has no identity")
