"""The unload engine's Azure side: Snowflake's integration principal, the approval right, storage still private.

Synthesized from config/prod.toml with ``engine = "unload"`` and an integration principal
(tests/conftest.py, ``unload_stacks``); the committed environments keep the stream engine.
"""

from __future__ import annotations

import re
from typing import Any

from stacks.access_roles import BUILTIN_ROLE_IDS
from tests.conftest import UNLOAD_INTEGRATION_PRINCIPAL
from tests.stacks.tf_json import only, reference, resources

# Written out by hand: the custom role's GUID for project globorealty, environment prod. It is part
# of the role's identity (ForceNew in azurerm), so a change replaces the role and its assignment.
APPROVER_ROLE_GUID = "7abc306b-df81-5c53-8e95-e249738c8735"
APPROVER_ACTIONS = [
    "Microsoft.Storage/storageAccounts/read",
    "Microsoft.Storage/storageAccounts/privateEndpointConnections/read",
    "Microsoft.Storage/storageAccounts/privateEndpointConnections/write",
]
PLATFORM_RG = reference("azurerm_resource_group", "platform_resource_group")
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def path_of(body: dict[str, Any]) -> str:
    return str(body["//"]["metadata"]["path"])


def grants(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources(stack, "azurerm_role_assignment")


def storage_reference(stack: dict[str, Any], resource_type: str, name: str | None = None) -> str:
    (logical_id,) = [
        key for key, body in resources(stack, resource_type).items() if name is None or body.get("name") == name
    ]
    return reference(resource_type, logical_id)


def test_the_snowflake_integration_writes_to_the_raw_container_only(unload_stacks: dict[str, Any]) -> None:
    platform = unload_stacks["mlplatform-prod"]
    mine = [body for body in grants(platform).values() if body["principal_id"] == UNLOAD_INTEGRATION_PRINCIPAL]
    (grant,) = mine
    assert grant["role_definition_name"] == "Storage Blob Data Contributor"
    assert grant["scope"] == storage_reference(platform, "azurerm_storage_container", "rawdata")
    assert grant["principal_type"] == "ServicePrincipal"
    assert "condition" not in grant
    # nowhere else either: not in the access or network stack
    for name, stack in unload_stacks.items():
        if name != "mlplatform-prod":
            assert UNLOAD_INTEGRATION_PRINCIPAL not in str(grants(stack))


def test_the_approver_role_lists_and_approves_private_endpoints_and_nothing_else(
    unload_stacks: dict[str, Any],
) -> None:
    roles = resources(unload_stacks["access-prod"], "azurerm_role_definition")
    _, role = only({key: body for key, body in roles.items() if key == "private_endpoint_approver_role"})
    (permissions,) = role["permissions"]
    assert permissions == {"actions": APPROVER_ACTIONS}  # no not_actions, no data actions
    assert role["role_definition_id"] == APPROVER_ROLE_GUID
    assert role["scope"] == PLATFORM_RG and role["assignable_scopes"] == [PLATFORM_RG]
    assert role["name"] == "globorealty storage private endpoint approver (prod)"


def test_data_bootstrap_holds_the_approver_role_at_the_storage_account_only(unload_stacks: dict[str, Any]) -> None:
    platform = unload_stacks["mlplatform-prod"]
    custom = [body for body in grants(platform).values() if "role_definition_id" in body]
    (grant,) = custom
    assert grant["role_definition_id"] == (
        "/subscriptions/${data.azurerm_client_config.client_config.subscription_id}"
        f"/providers/Microsoft.Authorization/roleDefinitions/{APPROVER_ROLE_GUID}"
    )
    assert grant["scope"] == storage_reference(platform, "azurerm_storage_account")
    (identity_id,) = platform["data"]["azurerm_user_assigned_identity"]
    assert grant["principal_id"] == reference("data.azurerm_user_assigned_identity", identity_id, "principal_id")
    assert grant["principal_type"] == "ServicePrincipal"
    assert "/data_bootstrap_access/" in path_of(grant)


def _assigned_guids(stack: dict[str, Any]) -> set[str]:
    found = set()
    for body in grants(stack).values():
        if "role_definition_name" in body:
            found.add(BUILTIN_ROLE_IDS[body["role_definition_name"]])
        else:
            guid = body["role_definition_id"].rsplit("/", 1)[1]
            assert GUID.fullmatch(guid), f"a role id the condition cannot check: {body['role_definition_id']}"
            found.add(guid)
    return found


def test_the_deployer_may_assign_exactly_what_the_unload_stacks_assign(unload_stacks: dict[str, Any]) -> None:
    """The ABAC condition's GUIDs, custom role included, equal the roles the deployer's stacks assign."""
    assigned = _assigned_guids(unload_stacks["network-prod"]) | _assigned_guids(unload_stacks["mlplatform-prod"])
    (condition,) = [body["condition"] for body in grants(unload_stacks["access-prod"]).values() if "condition" in body]
    lists = re.findall(r"RoleDefinitionId\] ForAnyOfAnyValues:GuidEquals \{([^}]*)\}", condition)
    assert len(lists) == 2 and lists[0] == lists[1]
    assert set(lists[0].split(", ")) == assigned
    assert APPROVER_ROLE_GUID in assigned


def test_the_unload_engine_opens_nothing_on_the_storage_account(
    unload_stacks: dict[str, Any], stacks: dict[str, Any]
) -> None:
    """Snowflake reaches the account through its own private endpoint: public access stays off."""
    (unload_account,) = resources(unload_stacks["mlplatform-prod"], "azurerm_storage_account").values()
    assert unload_account["public_network_access_enabled"] is False
    assert unload_account["network_rules"] == {"bypass": ["AzureServices"], "default_action": "Deny"}
    assert unload_account["shared_access_key_enabled"] is False
    (stream_account,) = resources(stacks["mlplatform-prod"], "azurerm_storage_account").values()
    assert unload_account == stream_account


def test_the_committed_environments_declare_no_unload_access(stacks: dict[str, Any]) -> None:
    """prod keeps the stream engine and no integration principal (config/prod.toml), dev too."""
    for name, stack in stacks.items():
        assert "private_endpoint_approver_role" not in resources(stack, "azurerm_role_definition"), name
        for body in grants(stack).values():
            assert not GUID.fullmatch(body["principal_id"]), f"{name}: {path_of(body)}"
            assert "role_definition_id" not in body or "/data_bootstrap_access/" not in path_of(body)


def test_the_approval_right_exists_only_where_the_data_bootstrap_identity_does() -> None:
    """dev keeps local state: no pipeline, no data-bootstrap identity, so its operator approves by hand."""
    from stacks.access_roles import deployer_custom_role_ids, private_endpoint_approver_role_id
    from stacks.config import parse_environment_toml
    from tests.conftest import REPO

    def with_unload(env: str) -> Any:
        text = (REPO / "config" / f"{env}.toml").read_text(encoding="utf-8")
        if 'engine = "stream"' in text:
            text = text.replace('engine = "stream"', 'engine = "unload"')
        else:
            text += '\n[data_asset]\nengine = "unload"\n'
        return parse_environment_toml(text, source=f"{env}.toml", expected_name=env)

    dev, prod = with_unload("dev"), with_unload("prod")
    assert dev.data_asset.engine == prod.data_asset.engine == "unload"
    assert deployer_custom_role_ids(dev) == ()
    assert deployer_custom_role_ids(prod) == (APPROVER_ROLE_GUID,)
    assert private_endpoint_approver_role_id(dev) != APPROVER_ROLE_GUID  # one role per environment
