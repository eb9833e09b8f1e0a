"""The access stack: identities, federated subjects, grants, the deployer's limits, runner reach."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stacks.access_roles import (
    BUILTIN_ROLE_IDS,
    DEPLOYER_ASSIGNABLE_ROLES,
    DEPLOYER_EXTRA_ACTIONS,
    DEPLOYER_RESOURCE_PROVIDERS,
    RESOURCE_PROVIDER_OF_TYPE,
    RUNNER_NETWORK_ACTIONS,
)
from stacks.config import EnvironmentConfig, parse_environment_toml
from stacks.constructs.private_dns import PRIVATE_DNS_ZONES
from stacks.naming import AUTOMATION_SECRETS, CLUSTER_JOBS, GITHUB_PLAN, JOBS_WITH_IDENTITY
from tests.conftest import ALL_STACKS, REPO
from tests.stacks.tf_json import all_resources, only, reference, resources, zone_links

PROD_ISSUER = "https://westeurope.oic.prod-aks.azure.com/3f0c2a9e-5b7d-4e61-9a8c-1d2e3f4a5b6c/6d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a/"
RUNNER_VNET = (
    "/subscriptions/5e2a7c9d-1b3f-4d6e-8a0c-2e4f6a8b0d1f/resourceGroups/rg-globorealty-aks"
    "/providers/Microsoft.Network/virtualNetworks/vnet-globorealty-aks"
)
AUTOMATION_VAULT = (
    "/subscriptions/5e2a7c9d-1b3f-4d6e-8a0c-2e4f6a8b0d1f/resourceGroups/rg-globorealty-aks"
    "/providers/Microsoft.KeyVault/vaults/kv-globorealty-automate"
)
PLATFORM_RG = reference("azurerm_resource_group", "platform_resource_group")
RUNNERS_RG = reference("azurerm_resource_group", "runners_resource_group")
ARTIFACTS = reference("azurerm_storage_container", "artifact_container")
DEPLOYER_ROLE = reference("azurerm_role_definition", "deployer_role", "role_definition_resource_id")
RUNNER_NETWORK_ROLE = reference("azurerm_role_definition", "runner_network_role", "role_definition_resource_id")


def expected_grants(state_container: str) -> dict[str, set[tuple[str, str]]]:
    """Written out by hand from docs/access.md: (role or custom role, scope) per job in prod."""
    read_platform = {
        ("Reader", PLATFORM_RG),
        ("Reader", RUNNERS_RG),
        ("Reader", RUNNER_VNET),
        ("Storage Blob Data Reader", state_container),
    }
    return {
        "infra-plan": read_platform | {("Storage Blob Data Contributor", ARTIFACTS)},
        "github-plan": read_platform,
        "infra-apply": {
            (DEPLOYER_ROLE, PLATFORM_RG),
            ("Role Based Access Control Administrator", PLATFORM_RG),
            ("Reader", RUNNERS_RG),
            (RUNNER_NETWORK_ROLE, RUNNER_VNET),
            ("Storage Blob Data Contributor", state_container),
            ("Storage Blob Data Contributor", ARTIFACTS),
        },
        "data-bootstrap": {
            ("Storage Blob Data Reader", state_container),
            ("Storage Blob Data Contributor", ARTIFACTS),
        },
        "secrets-reader": {
            ("Key Vault Secrets User", f"{AUTOMATION_VAULT}/secrets/{name}") for name in AUTOMATION_SECRETS
        },
        "argo-server": {("Storage Blob Data Reader", ARTIFACTS)},
    }


FORBIDDEN_ROLES = {"Owner", "Contributor", "User Access Administrator"}


def prod_config() -> EnvironmentConfig:
    text = (REPO / "config" / "prod.toml").read_text(encoding="utf-8")
    return parse_environment_toml(text, source="config/prod.toml", expected_name="prod")


def path_of(body: dict[str, Any]) -> str:
    return str(body["//"]["metadata"]["path"])


def by_path(stack: dict[str, Any], resource_type: str, path: str) -> str:
    """Logical ID of the one resource of a type at a construct path."""
    (logical_id,) = [key for key, body in resources(stack, resource_type).items() if path_of(body) == path]
    return logical_id


def state_container(stack: dict[str, Any]) -> str:
    logical_id = by_path(stack, "azurerm_storage_container", "access-prod/state_backend/storage/container_tfstate")
    return reference("azurerm_storage_container", logical_id)


def job_identity_bodies(stack: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """The resources of the job identities (not the state backend's or the administrator's)."""
    return [body for body in resources(stack, resource_type).values() if "/identity_" in path_of(body)]


def job_of(body: dict[str, Any]) -> str:
    match = re.match(r"access-[a-z0-9]+/identity_([a-z_]+)/", path_of(body))
    assert match, path_of(body)
    return match.group(1).replace("_", "-")


def identity_logical_id(stack: dict[str, Any], job: str) -> str:
    (logical_id,) = [
        key
        for key, body in resources(stack, "azurerm_user_assigned_identity").items()
        if path_of(body) == f"access-prod/identity_{job.replace('-', '_')}/identity/identity"
    ]
    return logical_id


def test_prod_has_one_identity_per_job_and_dev_none(stacks: dict[str, Any]) -> None:
    prod = job_identity_bodies(stacks["access-prod"], "azurerm_user_assigned_identity")
    assert sorted(body["name"] for body in prod) == sorted(f"id-globorealty-{job}-prod" for job in JOBS_WITH_IDENTITY)
    for body in prod:
        assert body["resource_group_name"] == "${azurerm_resource_group.runners_resource_group.name}"
    # dev keeps local state: no pipeline runs it, so no runner identity exists for it
    assert resources(stacks["access-dev"], "azurerm_user_assigned_identity") == {}
    assert [body["name"] for body in resources(stacks["access-dev"], "azurerm_resource_group").values()] == [
        "rg-globorealty-ml-dev"
    ]


def test_every_federated_subject_is_the_contracts(stacks: dict[str, Any]) -> None:
    stack = stacks["access-prod"]
    found: dict[str, set[tuple[str, str]]] = {}
    for body in resources(stack, "azurerm_federated_identity_credential").values():
        job = job_of(body)
        assert body["parent_id"] == reference("azurerm_user_assigned_identity", identity_logical_id(stack, job))
        assert body["audience"] == ["api://AzureADTokenExchange"]
        found.setdefault(job, set()).add((body["issuer"], body["subject"]))
    expected = {job: {(PROD_ISSUER, f"system:serviceaccount:ml-pipelines:{job}-prod")} for job in CLUSTER_JOBS} | {
        "argo-server": {(PROD_ISSUER, "system:serviceaccount:argo:argo-server")},
        GITHUB_PLAN: {
            ("https://token.actions.githubusercontent.com", "repo:globorealty/ml-platform:pull_request"),
            ("https://token.actions.githubusercontent.com", "repo:globorealty/ml-platform:ref:refs/heads/main"),
        },
    }
    assert found == expected


def test_federated_credentials_of_one_identity_are_written_one_at_a_time(stacks: dict[str, Any]) -> None:
    credentials = resources(stacks["access-prod"], "azurerm_federated_identity_credential")
    github = sorted((key, body) for key, body in credentials.items() if job_of(body) == GITHUB_PLAN)
    (first_key, first), (_, second) = github
    assert "depends_on" not in first
    assert second["depends_on"] == [f"azurerm_federated_identity_credential.{first_key}"]


def test_each_identity_has_exactly_its_grants(stacks: dict[str, Any]) -> None:
    found: dict[str, set[tuple[str, str]]] = {}
    stack = stacks["access-prod"]
    for body in job_identity_bodies(stack, "azurerm_role_assignment"):
        role = body.get("role_definition_name") or body["role_definition_id"]
        found.setdefault(job_of(body), set()).add((role, body["scope"]))
        assert body["principal_type"] == "ServicePrincipal"
        assert role not in FORBIDDEN_ROLES
    assert found == expected_grants(state_container(stack))
    # The only other grants: the state key's own identity, and whoever applies this stack.
    others = {
        path_of(body): (body["role_definition_name"], body["scope"])
        for body in resources(stack, "azurerm_role_assignment").values()
        if "/identity_" not in path_of(body)
    }
    key_id = by_path(stack, "azapi_resource", "access-prod/state_backend/encryption/key")
    assert others == {
        "access-prod/state_backend/encryption/role_assignment_crypto_user": (
            "Key Vault Crypto Service Encryption User",
            reference("azapi_resource", key_id),
        ),
        "access-prod/state_administrator": ("Storage Blob Data Contributor", state_container(stack)),
    }


def test_only_the_deployer_may_assign_roles_and_only_under_its_condition(stacks: dict[str, Any]) -> None:
    conditioned = [
        body for body in resources(stacks["access-prod"], "azurerm_role_assignment").values() if "condition" in body
    ]
    (admin,) = conditioned
    assert admin["role_definition_name"] == "Role Based Access Control Administrator"
    assert job_of(admin) == "infra-apply"
    assert admin["condition_version"] == "2.0"
    condition = admin["condition"]
    assert "ActionMatches{'Microsoft.Authorization/roleAssignments/write'}" in condition
    assert "ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}" in condition
    assert "PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}" in condition
    # the write and the delete clause each allow exactly the same role ids
    lists = re.findall(r"RoleDefinitionId\] ForAnyOfAnyValues:GuidEquals \{([^}]*)\}", condition)
    assert len(lists) == 2 and lists[0] == lists[1]
    assert set(lists[0].split(", ")) == {BUILTIN_ROLE_IDS[name] for name in DEPLOYER_ASSIGNABLE_ROLES}


def test_the_deployer_may_assign_exactly_the_roles_the_stacks_assign(stacks: dict[str, Any]) -> None:
    assigned = set()
    for name in ALL_STACKS:
        if name.startswith("access-"):
            continue  # assigned by the Owner's apply, not by the deployer
        for body in resources(stacks[name], "azurerm_role_assignment").values():
            assert "role_definition_name" in body, f"{name}: a role id the condition cannot check: {body}"
            assert body["principal_type"] == "ServicePrincipal"
            assigned.add(body["role_definition_name"])
    assert assigned == set(DEPLOYER_ASSIGNABLE_ROLES)


def test_the_deployer_role_covers_exactly_the_stacks_resource_providers(stacks: dict[str, Any]) -> None:
    namespaces = set()
    for name in ALL_STACKS:
        if name.startswith("access-"):
            continue
        for resource_type, logical_id, body in all_resources(stacks[name]):
            if resource_type.startswith("azapi_"):
                namespaces.add(body["type"].split("/")[0])
                continue
            if resource_type == "time_sleep":  # hashicorp/time: nothing in Azure
                continue
            assert resource_type in RESOURCE_PROVIDER_OF_TYPE, f"{name}: {resource_type}.{logical_id} has no provider"
            namespaces.add(RESOURCE_PROVIDER_OF_TYPE[resource_type])
    namespaces.discard("Microsoft.Authorization")  # role assignments: the conditioned admin role
    assert namespaces == set(DEPLOYER_RESOURCE_PROVIDERS)
    _, role = only(
        {k: v for k, v in resources(stacks["access-prod"], "azurerm_role_definition").items() if k == "deployer_role"}
    )
    (permissions,) = role["permissions"]
    assert permissions["actions"] == [f"{ns}/*" for ns in DEPLOYER_RESOURCE_PROVIDERS] + list(DEPLOYER_EXTRA_ACTIONS)
    assert not any(action.startswith(("Microsoft.Authorization", "*")) for action in permissions["actions"])
    assert "data_actions" not in permissions
    assert role["scope"] == PLATFORM_RG and role["assignable_scopes"] == [PLATFORM_RG]
    # the provider registers the same namespaces, once, in the Owner's apply
    (provider,) = stacks["access-prod"]["provider"]["azurerm"]
    assert provider["resource_providers_to_register"] == list(DEPLOYER_RESOURCE_PROVIDERS)


def test_the_runner_network_role_only_peers_and_links(stacks: dict[str, Any]) -> None:
    role = resources(stacks["access-prod"], "azurerm_role_definition")["runner_network_role"]
    (permissions,) = role["permissions"]
    assert permissions["actions"] == list(RUNNER_NETWORK_ACTIONS)
    assert all(action.startswith("Microsoft.Network/virtualNetworks/") for action in permissions["actions"])
    runner_group = RUNNER_VNET.split("/providers/")[0]
    assert role["scope"] == runner_group and role["assignable_scopes"] == [runner_group]


@pytest.mark.parametrize("stack_name", [name for name in ALL_STACKS if not name.startswith("access-")])
def test_no_stack_but_access_registers_resource_providers(stacks: dict[str, Any], stack_name: str) -> None:
    for provider in stacks[stack_name]["provider"]["azurerm"]:
        assert provider["resource_provider_registrations"] == "none"
        assert "resource_providers_to_register" not in provider


def test_the_artifact_container_is_private_in_the_state_account(stacks: dict[str, Any]) -> None:
    stack = stacks["access-prod"]
    container = resources(stack, "azurerm_storage_container")["artifact_container"]
    assert container["name"] == "argo-artifacts"
    assert container["container_access_type"] == "private"
    account = by_path(stack, "azurerm_storage_account", "access-prod/state_backend/storage/account")
    assert container["storage_account_id"] == reference("azurerm_storage_account", account)


def test_outputs_give_the_pipelines_their_ids_and_nothing_secret(stacks: dict[str, Any]) -> None:
    outputs = stacks["access-prod"]["output"]
    expected = {f"{job.replace('-', '_')}_client_id" for job in JOBS_WITH_IDENTITY} | {
        "tenant_id",
        "artifact_container_name",
        "artifact_storage_account_name",
        "platform_resource_group_name",
    }
    assert set(outputs) == expected
    for name, output in outputs.items():
        assert not output.get("sensitive"), name
        if name.endswith("_client_id"):
            assert re.fullmatch(r"\$\{azurerm_user_assigned_identity\.[^.]+\.client_id\}", output["value"]), name
    assert outputs["tenant_id"]["value"] == "${data.azurerm_client_config.client_config.tenant_id}"
    assert outputs["artifact_container_name"]["value"] == "${azurerm_storage_container.artifact_container.name}"
    account = by_path(stacks["access-prod"], "azurerm_storage_account", "access-prod/state_backend/storage/account")
    assert outputs["artifact_storage_account_name"]["value"] == reference("azurerm_storage_account", account, "name")


def test_dev_has_no_runner_reach(stacks: dict[str, Any]) -> None:
    """config/dev.toml leaves runners.virtual_network_id empty: no pipeline runs dev."""
    network = stacks["network-dev"]
    assert resources(network, "azurerm_virtual_network_peering") == {}
    links = resources(network, "azurerm_private_dns_zone_virtual_network_link").values()
    (vnet_id, _) = only(resources(network, "azurerm_virtual_network"))
    assert {link["virtual_network_id"] for link in links} == {reference("azurerm_virtual_network", vnet_id)}


def test_runner_vnet_is_peered_both_ways_and_linked_to_every_zone(stacks: dict[str, Any]) -> None:
    network = stacks["network-prod"]
    peerings = resources(network, "azurerm_virtual_network_peering")
    assert len(peerings) == 2
    for peering in peerings.values():
        assert peering["allow_forwarded_traffic"] is False
        assert peering["allow_gateway_transit"] is False
        assert peering["use_remote_gateways"] is False
    outbound, inbound = (peerings[key] for key in sorted(peerings, key=lambda k: "from_runners" in k))
    assert outbound["remote_virtual_network_id"] == RUNNER_VNET
    assert inbound["virtual_network_name"] == "vnet-globorealty-aks"
    assert inbound["resource_group_name"] == "rg-globorealty-aks"
    assert inbound["provider"] == "azurerm.runner_subscription"
    aliased = [p for p in network["provider"]["azurerm"] if p.get("alias") == "runner_subscription"]
    assert [p["subscription_id"] for p in aliased] == ["5e2a7c9d-1b3f-4d6e-8a0c-2e4f6a8b0d1f"]
    # Every zone name is linked to both VNets exactly once, across the two stacks that hold zones.
    linked = {(zone, "runner" if vnet == RUNNER_VNET else "platform") for zone, vnet in zone_links(stacks, "prod")}
    assert sorted(linked) == sorted(
        (zone, side) for zone in PRIVATE_DNS_ZONES.values() for side in ("platform", "runner")
    )
    assert len(zone_links(stacks, "prod")) == len(linked)
    for link in resources(network, "azurerm_private_dns_zone_virtual_network_link").values():
        assert link["registration_enabled"] is False


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_network_stack_uses_the_access_stacks_resource_group(stacks: dict[str, Any], env: str) -> None:
    assert resources(stacks[f"network-{env}"], "azurerm_resource_group") == {}
    (group,) = stacks[f"network-{env}"]["data"]["azurerm_resource_group"].values()
    assert group["name"] == f"rg-globorealty-ml-{env}"


def test_data_bootstrap_grants_are_the_docs_table(stacks: dict[str, Any]) -> None:
    """docs/data_bootstrap.md, "Access each identity needs": the rows for who runs plan/apply/verify."""
    text = (REPO / "docs" / "data_bootstrap.md").read_text(encoding="utf-8")
    section = text.split("## Access each identity needs", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:4] for line in section.splitlines() if line.startswith("| ")][1:]
    documented = {(role.strip(), scope.strip()) for who, role, scope in rows if "data-bootstrap" in who}
    assert documented == {
        ("AzureML Data Scientist", "workspace"),
        ("Key Vault Secrets User", "key vault"),
        ("Storage Blob Data Contributor", "raw container"),
    }
    platform = stacks["mlplatform-prod"]
    grants = {
        body["role_definition_name"]: body["scope"]
        for body in resources(platform, "azurerm_role_assignment").values()
        if "/data_bootstrap_access/" in path_of(body)
    }
    (workspace_id,) = [
        k
        for k, v in resources(platform, "azapi_resource").items()
        if v["type"].startswith("Microsoft.MachineLearningServices/workspaces@")
    ]
    # the platform vault, not the customer-managed-key vault (which no workload may touch)
    (vault_id,) = [k for k, v in resources(platform, "azurerm_key_vault").items() if "/key_vault/" in path_of(v)]
    raw = [k for k, v in resources(platform, "azurerm_storage_container").items() if v["name"] == "rawdata"]
    assert grants == {
        "AzureML Data Scientist": reference("azapi_resource", workspace_id),
        "Key Vault Secrets User": reference("azurerm_key_vault", vault_id),
        "Storage Blob Data Contributor": reference("azurerm_storage_container", raw[0]),
    }
    (identity,) = platform["data"]["azurerm_user_assigned_identity"].values()
    assert identity == {**identity, "name": "id-globorealty-data-bootstrap-prod"}
    assert identity["resource_group_name"] == "rg-globorealty-access-prod"
    # dev has no data-bootstrap identity: no grant either
    assert not [
        b
        for b in resources(stacks["mlplatform-dev"], "azurerm_role_assignment").values()
        if "/data_bootstrap_access/" in path_of(b)
    ]


def test_secrets_reader_reads_exactly_what_external_secrets_syncs() -> None:
    from pipelines.external_secrets import SYNCED

    synced = {secret for keys in SYNCED.values() for secret in keys.values()}
    assert synced == set(AUTOMATION_SECRETS)


def test_stack_order_is_the_dependency_order(synth_dir: Path) -> None:
    manifest = json.loads((synth_dir / "manifest.json").read_text())["stacks"]
    for env in ("dev", "prod"):
        assert manifest[f"access-{env}"]["dependencies"] == []
        assert manifest[f"network-{env}"]["dependencies"] == [f"access-{env}"]
        assert sorted(manifest[f"mlplatform-{env}"]["dependencies"]) == [f"access-{env}", f"network-{env}"]


def test_readme_deploy_commands_list_every_dependency_first(synth_dir: Path) -> None:
    """cdktf refuses to deploy a stack whose dependencies are neither deployed in the run nor listed."""
    manifest = json.loads((synth_dir / "manifest.json").read_text())["stacks"]
    dependencies = {name: set(stack["dependencies"]) for name, stack in manifest.items()}
    text = "".join((REPO / doc).read_text(encoding="utf-8") for doc in ("README.md", "docs/access.md"))
    commands = re.findall(r"^\s*(?:`)?cdktf deploy ([^#`\n]+)", text, re.MULTILINE)
    assert len(commands) >= 3, commands
    for command in commands:
        listed = {word.replace("<env>", "dev") for word in command.split() if not word.startswith("-")}
        listed -= {"outputs.json"}
        for stack in listed:
            assert dependencies[stack] <= listed or "--ignore-missing-stack-dependencies" in command, command


def test_readme_identity_table_is_generated_from_the_code() -> None:
    from stacks.access_docs import identity_table

    expected = identity_table(prod_config())
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert expected in readme, f"README.md: replace the identity table with:\n{expected}"


# --- every workload-identity ServiceAccount has its federated credential, and vice versa ---------


def workload_identity_subjects(manifests: list[dict[str, Any]]) -> set[str]:
    """Subjects of the ServiceAccounts that use workload identity (annotated with a client ID)."""
    return {
        f"system:serviceaccount:{doc['metadata']['namespace']}:{doc['metadata']['name']}"
        for doc in manifests
        if doc
        and doc.get("kind") == "ServiceAccount"
        and "azure.workload.identity/client-id" in doc["metadata"].get("annotations", {})
    }


def kubernetes_credential_subjects(stacks: dict[str, Any]) -> set[str]:
    return {
        body["subject"]
        for name, stack in stacks.items()
        if name.startswith("access-")
        for body in resources(stack, "azurerm_federated_identity_credential").values()
        if body["subject"].startswith("system:serviceaccount:")
    }


def subject_mismatches(service_accounts: set[str], credentials: set[str], installed_elsewhere: set[str]) -> list[str]:
    problems = [f"ServiceAccount {s} has no federated credential" for s in sorted(service_accounts - credentials)]
    problems += [
        f"federated credential {s} has no ServiceAccount"
        for s in sorted(credentials - service_accounts - installed_elsewhere)
    ]
    return problems


def test_subject_mismatches_name_both_directions() -> None:
    accounts = {"system:serviceaccount:ml:infra-plan-prod", "system:serviceaccount:ml:extra"}
    credentials = {"system:serviceaccount:ml:infra-plan-prod", "system:serviceaccount:ml:orphan"}
    assert subject_mismatches(accounts, credentials, set()) == [
        "ServiceAccount system:serviceaccount:ml:extra has no federated credential",
        "federated credential system:serviceaccount:ml:orphan has no ServiceAccount",
    ]
    assert subject_mismatches(accounts, accounts, set()) == []
    assert (
        subject_mismatches(
            set(), {"system:serviceaccount:argo:argo-server"}, {"system:serviceaccount:argo:argo-server"}
        )
        == []
    )


def test_workload_identity_subjects_ignore_plain_service_accounts() -> None:
    manifests = [
        {
            "kind": "ServiceAccount",
            "metadata": {"name": "a", "namespace": "n", "annotations": {"azure.workload.identity/client-id": "x"}},
        },
        {"kind": "ServiceAccount", "metadata": {"name": "plain", "namespace": "n"}},
        {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}},
    ]
    assert workload_identity_subjects(manifests) == {"system:serviceaccount:n:a"}


def test_rendered_service_accounts_and_federated_credentials_match(stacks: dict[str, Any]) -> None:
    import yaml

    manifests = list(yaml.safe_load_all((REPO / "pipelines" / "argo" / "00-access.yaml").read_text(encoding="utf-8")))
    config = prod_config()
    # The Argo server's ServiceAccount comes with the Argo install, not from pipelines/.
    argo_server = {"system:serviceaccount:" + config.runners.argo_server_service_account}
    problems = subject_mismatches(
        workload_identity_subjects(manifests), kubernetes_credential_subjects(stacks), argo_server
    )
    assert problems == []


def test_a_grant_names_exactly_one_role() -> None:
    from stacks.constructs.runner_identities import ScopedGrantSpec

    with pytest.raises(ValueError, match="exactly one"):
        ScopedGrantSpec(scope="/x", description="d")
    with pytest.raises(ValueError, match="exactly one"):
        ScopedGrantSpec(scope="/x", description="d", role_definition_name="Reader", role_definition_id="/id")


def test_no_doc_asks_for_a_hand_made_identity_or_grant() -> None:
    """Identities, federated credentials and role assignments are code (docs/access.md), not `az` steps."""
    manual = re.compile(r"az (role assignment create|identity create|identity federated-credential create)")
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        assert not manual.search(doc.read_text(encoding="utf-8")), doc.name
