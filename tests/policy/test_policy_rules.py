"""Each project rule fires on a deliberately broken construct; suppressions need reasons."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from stacks.policy import RULES, evaluate, policy_lines, suppress
from tests.policy.conftest import AppBuilder

TAGS = {"environment": "test", "project": "p", "provisioner": "cdktf", "owner": "o", "cost_center": "c"}
FAKE_ACCOUNT_KEY = "A" * 86 + "=="


def storage(stack: Any, **overrides: Any) -> Any:
    from cdktf_cdktf_provider_azurerm.storage_account import StorageAccount

    settings: dict[str, Any] = {
        "name": "sttest",
        "location": "westeurope",
        "resource_group_name": "rg",
        "account_tier": "Standard",
        "account_replication_type": "ZRS",
        "public_network_access_enabled": False,
        "shared_access_key_enabled": False,
        "tags": TAGS,
    }
    return StorageAccount(stack, "storage", **{**settings, **overrides})


def endpoint(stack: Any, target_id: str, *, with_dns: bool = True) -> None:
    from cdktf_cdktf_provider_azurerm.private_endpoint import (
        PrivateEndpoint,
        PrivateEndpointPrivateDnsZoneGroup,
        PrivateEndpointPrivateServiceConnection,
    )

    PrivateEndpoint(
        stack,
        "endpoint",
        name="pe",
        location="westeurope",
        resource_group_name="rg",
        subnet_id="subnet",
        tags=TAGS,
        private_service_connection=PrivateEndpointPrivateServiceConnection(
            name="psc", private_connection_resource_id=target_id, subresource_names=["blob"], is_manual_connection=False
        ),
        private_dns_zone_group=PrivateEndpointPrivateDnsZoneGroup(name="default", private_dns_zone_ids=["zone"])
        if with_dns
        else None,
    )


def compliant_storage(stack: Any) -> None:
    endpoint(stack, storage(stack).id)


def role(stack: Any, **kwargs: Any) -> None:
    from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment

    RoleAssignment(stack, "grant", scope="/subscriptions/0000", principal_id="p", **kwargs)


def key_vault(stack: Any, *, purge: bool, public: bool = False) -> Any:
    from cdktf_cdktf_provider_azurerm.key_vault import KeyVault

    vault = KeyVault(
        stack,
        "vault",
        name="kv-test",
        location="westeurope",
        resource_group_name="rg",
        tenant_id="t",
        sku_name="premium",
        purge_protection_enabled=purge,
        public_network_access_enabled=public,
        tags=TAGS,
    )
    endpoint(stack, vault.id)
    return vault


def untagged_group(stack: Any) -> None:
    from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup

    ResourceGroup(stack, "group", name="rg", location="westeurope")


def secret_output(stack: Any) -> None:
    from cdktf import TerraformOutput

    TerraformOutput(
        stack, "connection", value=f"DefaultEndpointsProtocol=https;AccountName=x;AccountKey={FAKE_ACCOUNT_KEY}"
    )


def private_key_tag(stack: Any) -> None:
    storage(stack, tags={**TAGS, "note": "-----BEGIN PRIVATE KEY-----MIIE"})


def static_website_storage(stack: Any) -> None:
    from cdktf_cdktf_provider_azurerm.storage_account import StorageAccountStaticWebsite

    endpoint(stack, storage(stack, static_website=StorageAccountStaticWebsite(index_document="index.html")).id)


def storage_right_after_its_grant(stack: Any) -> None:
    from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment

    grant = RoleAssignment(stack, "grant", scope="/subscriptions/0000", principal_id="p", role_definition_name="Reader")
    endpoint(stack, storage(stack, depends_on=[grant]).id)


def azapi(stack: Any, construct_id: str, type_: str, parent_id: str, body: dict[str, Any]) -> Any:
    from cdktf import TerraformProvider

    from stacks.constructs.azapi import azapi_resource

    provider = stack.node.try_find_child("azapi") or TerraformProvider(
        stack, "azapi", terraform_resource_type="azapi", terraform_provider_source="azure/azapi"
    )
    return azapi_resource(
        stack, construct_id, provider=provider, type_=type_, name=construct_id, parent_id=parent_id, body=body
    )


def cmk_vault_with_a_workload_grant(stack: Any) -> None:
    from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment

    vault = key_vault(stack, purge=True)
    azapi(stack, "key", "Microsoft.KeyVault/vaults/keys@2023-07-01", vault.id, {"properties": {"kty": "RSA"}})
    RoleAssignment(
        stack, "grant", scope=vault.id, principal_id="workload", role_definition_name="Key Vault Administrator"
    )


def workspace_on_the_cmk_vault(stack: Any) -> None:
    vault = key_vault(stack, purge=True)
    azapi(stack, "key", "Microsoft.KeyVault/vaults/keys@2023-07-01", vault.id, {"properties": {"kty": "RSA"}})
    azapi(
        stack,
        "workspace",
        "Microsoft.MachineLearningServices/workspaces@2025-06-01",
        "/subscriptions/0000/resourceGroups/rg",
        {"properties": {"publicNetworkAccess": "Disabled", "keyVault": vault.id}},
    )


def public_workspace(stack: Any) -> None:
    workspace = azapi(
        stack,
        "workspace",
        "Microsoft.MachineLearningServices/workspaces@2025-06-01",
        "/subscriptions/0000/resourceGroups/rg",
        {"properties": {"publicNetworkAccess": "Enabled"}},
    )
    from stacks.constructs.azapi import attribute

    endpoint(stack, attribute(workspace, "id"))


def public_registry(stack: Any) -> None:
    from cdktf_cdktf_provider_azurerm.container_registry import ContainerRegistry

    registry = ContainerRegistry(
        stack,
        "registry",
        name="crtest",
        location="westeurope",
        resource_group_name="rg",
        sku="Premium",
        public_network_access_enabled=True,
        tags=TAGS,
    )
    endpoint(stack, registry.id)


def secret_in_tag(value: str, key: str = "note") -> Callable[[Any], None]:
    """A storage account whose tag ``key`` holds ``value``: GR005 must see it in any string."""
    return lambda stack: storage(stack, tags={**TAGS, key: value})


# Fake values shaped like the real thing, assembled so no scanner mistakes this file for a leak.
FAKE_JWT = "eyJ" + "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiIxMjM0NTY3ODkwIn0" + ".c2lnbmF0dXJlLXBhcnQ"
FAKE_SAS = "https://st.blob.core.windows.net/c?sv=2024-11-04&s" + "ig=" + "AbC%2Bdef" * 4


def federated(stack: Any, *, issuer: str, subject: str, audience: str = "api://AzureADTokenExchange") -> None:
    from cdktf_cdktf_provider_azurerm.federated_identity_credential import FederatedIdentityCredential

    FederatedIdentityCredential(
        stack,
        "credential",
        name="fic",
        resource_group_name="rg",
        parent_id="/identity",
        issuer=issuer,
        subject=subject,
        audience=[audience],
    )


def custom_role(stack: Any, *, actions: list[str], scope: str = "/subscriptions/0/resourceGroups/rg") -> None:
    from cdktf_cdktf_provider_azurerm.role_definition import RoleDefinition, RoleDefinitionPermissions

    RoleDefinition(
        stack,
        "role",
        name="custom",
        scope=scope,
        permissions=[RoleDefinitionPermissions(actions=actions)],
        assignable_scopes=[scope],
    )


AKS_ISSUER = "https://westeurope.oic.prod-aks.azure.com/t/c/"
GITHUB = "https://token.actions.githubusercontent.com"

OUTSIDE_PRINCIPAL = "8d2c6b1e-4f7a-4c3d-9e5b-2a1f0c7d6e94"


def outside_principal_grant(stack: Any, *, on: str) -> None:
    """Compliant private storage with a raw container, and an object ID from config granted at ``on``."""
    from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
    from cdktf_cdktf_provider_azurerm.storage_container import StorageContainer

    account = storage(stack)
    endpoint(stack, account.id)
    container = StorageContainer(stack, "raw", name="rawdata", storage_account_id=account.id)
    scopes = {
        "container": container.id,
        "account": account.id,
        "blob-service": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sttest"
        "/blobServices/default",
        "group": "/subscriptions/0/resourceGroups/rg",
        "subscription": "/subscriptions/0",
    }
    RoleAssignment(
        stack,
        "grant",
        scope=scopes[on],
        principal_id=OUTSIDE_PRINCIPAL,
        principal_type="ServicePrincipal",
        role_definition_name="Storage Blob Data Contributor",
    )


def outside_grant_line(what: str) -> str:
    return (
        f"test/grant: GR012 grants 'Storage Blob Data Contributor' to outside principal {OUTSIDE_PRINCIPAL} "
        f"on {what}, above container scope"
    )


CASES: list[tuple[str, Callable[[Any], None], str]] = [
    (
        "contributor-by-name",
        lambda s: role(s, role_definition_name="Contributor"),
        "test/grant: GR001 assigns the broad role 'Contributor'",
    ),
    (
        "owner-by-id",
        lambda s: role(
            s,
            role_definition_id="/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        ),
        "test/grant: GR001 assigns the broad role 'Owner'",
    ),
    (
        "uaa-by-name",
        lambda s: role(s, role_definition_name="User Access Administrator"),
        "test/grant: GR001 assigns the broad role 'User Access Administrator'",
    ),
    (
        "public-storage",
        lambda s: endpoint(s, storage(s, public_network_access_enabled=True).id),
        "test/storage: GR002 azurerm_storage_account must set public_network_access_enabled = false",
    ),
    (
        "storage-without-endpoint",
        lambda s: storage(s),
        "test/storage: GR002 azurerm_storage_account has no private endpoint",
    ),
    (
        "endpoint-without-dns",
        lambda s: endpoint(s, storage(s).id, with_dns=False),
        "test/storage: GR002 a private endpoint of azurerm_storage_account has no DNS zone group",
    ),
    (
        "shared-key-storage",
        lambda s: endpoint(s, storage(s, shared_access_key_enabled=True).id),
        "test/storage: GR003 storage shared-key authorization must be disabled",
    ),
    (
        "no-purge-protection",
        lambda s: key_vault(s, purge=False),
        "test/vault: GR003 Key Vault purge protection must be on",
    ),
    (
        "missing-tags",
        untagged_group,
        "test/group: GR004 is missing the required tags environment, project, provisioner, owner, cost_center",
    ),
    (
        "account-key-literal",
        secret_output,
        "test/output: GR005 contains a storage account key in 'value' (value not shown)",
    ),
    ("private-key-literal", private_key_tag, "test/storage: GR005 contains a private key in 'note' (value not shown)"),
    (
        "jwt-literal",
        secret_in_tag(FAKE_JWT),
        "test/storage: GR005 contains a JSON web token in 'note' (value not shown)",
    ),
    (
        "sas-literal",
        secret_in_tag(FAKE_SAS),
        "test/storage: GR005 contains a shared access signature in 'note' (value not shown)",
    ),
    (
        "connection-string-password",
        secret_in_tag("Server=db.example;User Id=app;Pass" + "word=hunter2-not-real;"),
        "test/storage: GR005 contains a password in a connection string in 'note' (value not shown)",
    ),
    (
        "bare-account-key",
        secret_in_tag(FAKE_ACCOUNT_KEY),
        "test/storage: GR005 contains a base64 access key in 'note' (value not shown)",
    ),
    (
        "literal-under-a-secret-key",
        secret_in_tag("not-a-reference", key="client_secret"),
        "test/storage: GR005 contains a literal 'client_secret' (value not shown)",
    ),
    (
        "public-key-vault",
        lambda s: key_vault(s, purge=True, public=True),
        "test/vault: GR002 azurerm_key_vault must set public_network_access_enabled = false",
    ),
    (
        "public-registry",
        public_registry,
        "test/registry: GR002 azurerm_container_registry must set public_network_access_enabled = false",
    ),
    (
        "public-azapi-workspace",
        public_workspace,
        "test/workspace: GR002 Microsoft.MachineLearningServices/workspaces@2025-06-01 must set publicNetworkAccess",
    ),
    (
        "storage-data-plane-feature",
        compliant_storage,
        "test/azurerm: GR006 a storage account has public access off but the provider still polls its data plane",
    ),
    ("storage-static-website", static_website_storage, "test/storage: GR006 sets static_website"),
    (
        "grant-without-wait",
        storage_right_after_its_grant,
        "test/storage: GR007 depends on the grant azurerm_role_assignment.grant directly",
    ),
    (
        "cmk-vault-shared",
        cmk_vault_with_a_workload_grant,
        "test/grant: GR008 grants 'Key Vault Administrator' on a vault holding a customer-managed key",
    ),
    (
        "cmk-vault-as-workspace-vault",
        workspace_on_the_cmk_vault,
        "test/workspace: GR008 links a vault holding a customer-managed key as its workload Key Vault",
    ),
    (
        "wildcard-github-subject",
        lambda s: federated(s, issuer=GITHUB, subject="repo:org/repo:*"),
        "test/credential: GR009 subject 'repo:org/repo:*' is not one exact GitHub subject",
    ),
    (
        "namespace-wide-subject",
        lambda s: federated(s, issuer=AKS_ISSUER, subject="system:serviceaccount:ml-pipelines"),
        "test/credential: GR009 subject 'system:serviceaccount:ml-pipelines' is not one exact ServiceAccount subject",
    ),
    (
        "http-issuer",
        lambda s: federated(s, issuer="http://issuer", subject="system:serviceaccount:ns:sa"),
        "test/credential: GR009 issuer 'http://issuer' is not an https URL",
    ),
    (
        "other-audience",
        lambda s: federated(s, issuer=AKS_ISSUER, subject="system:serviceaccount:ns:sa", audience="api://other"),
        "test/credential: GR009 audience must be exactly the token exchange",
    ),
    (
        "wildcard-custom-role",
        lambda s: custom_role(s, actions=["*"]),
        "test/role: GR010 custom role allows '*'",
    ),
    (
        "authorization-custom-role",
        lambda s: custom_role(s, actions=["Microsoft.Authorization/roleAssignments/write"]),
        "test/role: GR010 custom role allows 'Microsoft.Authorization/roleAssignments/write'",
    ),
    (
        "subscription-wide-custom-role",
        lambda s: custom_role(s, actions=["Microsoft.Storage/*"], scope="/subscriptions/0"),
        "test/role: GR010 custom role is assignable at '/subscriptions/0'",
    ),
    (
        "unconditioned-rbac-admin",
        lambda s: role(s, role_definition_name="Role Based Access Control Administrator"),
        "test/grant: GR011 assigns 'Role Based Access Control Administrator' without a condition",
    ),
    *[
        (f"outside-principal-on-the-{on}", partial(outside_principal_grant, on=on), outside_grant_line(what))
        for on, what in (
            ("account", "a storage account"),
            ("blob-service", "a storage account"),
            ("group", "a resource group"),
            ("subscription", "a subscription or wider"),
        )
    ],
]
# Cases that need the provider's default storage data-plane polling declared.
POLLING_PROVIDER = {"storage-data-plane-feature"}


@pytest.mark.parametrize(
    ("declare", "expected", "polling"),
    [(c[1], c[2], c[0] in POLLING_PROVIDER) for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_rule_aborts_synth_with_path_and_rule(
    synth_test_stack: AppBuilder, declare: Callable[[Any], None], expected: str, polling: bool
) -> None:
    with pytest.raises(RuntimeError) as caught:
        synth_test_stack(declare, storage_data_plane=polling)
    lines = policy_lines(caught.value)
    assert lines is not None, str(caught.value)
    assert any(line.startswith(f"policy violation: {expected}") for line in lines), lines
    assert all("; fix: " in line for line in lines)
    assert FAKE_ACCOUNT_KEY not in str(caught.value)


def test_nothing_is_written_when_a_rule_fires(synth_test_stack: AppBuilder, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        synth_test_stack(lambda s: role(s, role_definition_name="Owner"))
    assert not list(tmp_path.rglob("cdk.tf.json"))


def test_compliant_resources_pass(synth_test_stack: AppBuilder) -> None:
    def declare(stack: Any) -> None:
        compliant_storage(stack)
        role(stack, role_definition_name="Reader")
        federated(stack, issuer=GITHUB, subject="repo:org/repo:pull_request")
        custom_role(stack, actions=["Microsoft.Storage/*"])

    stack_dir = synth_test_stack(declare)
    assert (stack_dir / "cdk.tf.json").is_file()


def test_an_outside_principal_may_write_to_one_container(synth_test_stack: AppBuilder) -> None:
    stack_dir = synth_test_stack(lambda s: outside_principal_grant(s, on="container"))
    assert (stack_dir / "cdk.tf.json").is_file()


def test_a_suppression_with_a_reason_waives_the_rule_for_that_construct(synth_test_stack: AppBuilder) -> None:
    def declare(stack: Any) -> None:
        role(stack, role_definition_name="Contributor")
        suppress(
            stack.node.find_child("grant"), "GR001", "Break-glass grant for the test, reviewed by the platform team."
        )

    assert (synth_test_stack(declare) / "cdk.tf.json").is_file()


REASON = "Break-glass grant for the test, reviewed by the platform team."


def test_a_suppression_covers_children_but_not_a_sibling_sharing_its_name_prefix(synth_test_stack: AppBuilder) -> None:
    from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
    from constructs import Construct

    def declare(stack: Any) -> None:
        group = Construct(stack, "grant")
        RoleAssignment(group, "inner", scope="/subscriptions/0000", principal_id="p", role_definition_name="Owner")
        RoleAssignment(stack, "grant2", scope="/subscriptions/0000", principal_id="p", role_definition_name="Owner")
        suppress(group, "GR001", REASON)

    with pytest.raises(RuntimeError) as raised:
        synth_test_stack(declare)
    lines = policy_lines(raised.value) or []
    assert [line.split(": ")[1] for line in lines] == ["test/grant2"]


def test_a_suppression_waives_only_its_rule(synth_test_stack: AppBuilder) -> None:
    def declare(stack: Any) -> None:
        storage(stack, shared_access_key_enabled=True)
        suppress(stack.node.find_child("storage"), "GR001", REASON)

    with pytest.raises(RuntimeError, match="GR003"):
        synth_test_stack(declare)


def test_a_suppression_stays_with_its_app(synth_test_stack: AppBuilder) -> None:
    """Two apps with the same construct path: the waiver of the first must not reach the second."""

    def waived(stack: Any) -> None:
        role(stack, role_definition_name="Owner")
        suppress(stack.node.find_child("grant"), "GR001", REASON)

    synth_test_stack(waived)
    with pytest.raises(RuntimeError, match="GR001"):
        synth_test_stack(lambda s: role(s, role_definition_name="Owner"))


@pytest.mark.parametrize(
    ("rule_id", "reason", "message"),
    [
        ("GR001", "because", "needs a reason of at least one full sentence"),
        ("GR999", "This rule does not exist in the project at all.", "unknown policy rule 'GR999'"),
    ],
)
def test_a_suppression_needs_a_known_rule_and_a_real_reason(
    synth_test_stack: AppBuilder, rule_id: str, reason: str, message: str
) -> None:
    def declare(stack: Any) -> None:
        role(stack, role_definition_name="Reader")
        suppress(stack.node.find_child("grant"), rule_id, reason)

    with pytest.raises(ValueError, match=message):
        synth_test_stack(declare)


def test_the_real_stacks_pass_every_rule(binding: None, tmp_path: Path) -> None:
    from main import REPO_CONFIG_DIR, load_configs
    from stacks.app import build_app

    app = build_app(configs=load_configs("all", REPO_CONFIG_DIR), outdir=str(tmp_path))
    from cdktf import TerraformStack

    stacks = [c for c in app.node.children if isinstance(c, TerraformStack)]
    assert len(stacks) == 6
    for stack in stacks:
        assert evaluate(stack) == []
    assert set(RULES) == {
        "GR001",
        "GR002",
        "GR003",
        "GR004",
        "GR005",
        "GR006",
        "GR007",
        "GR008",
        "GR009",
        "GR010",
        "GR011",
        "GR012",
    }


def test_main_reports_violations_one_per_line_and_exits_3(
    binding: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import main
    import stacks.app

    def broken_app(*, configs: Any, outdir: str | None = None, access_local_state: bool = False) -> Any:
        from cdktf import App, Aspects, TerraformStack

        from stacks.policy import PolicyAspect

        app = App(outdir=str(tmp_path / "out"))
        stack = TerraformStack(app, "broken")
        role(stack, role_definition_name="Owner")
        untagged_group(stack)
        Aspects.of(stack).add(PolicyAspect())
        return app

    monkeypatch.setattr(stacks.app, "build_app", broken_app)
    monkeypatch.setenv("PLATFORM_ENV", "dev")
    assert main.main() == 3
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "error: policy violation: broken/grant: GR001 assigns the broad role 'Owner'; fix: grant the narrowest "
        "built-in role the workload needs, at the narrowest scope",
        "error: policy violation: broken/group: GR004 is missing the required tags environment, project, "
        "provisioner, owner, cost_center; fix: pass the stack's tags to the construct (its tags= argument)",
    ]
    assert not list(tmp_path.rglob("cdk.tf.json"))
