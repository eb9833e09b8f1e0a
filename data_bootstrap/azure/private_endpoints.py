"""Snowflake's private endpoint to our storage account: find it, approve only it, refuse what would open anything.

Snowflake's outbound private connectivity (Business Critical edition) creates a private endpoint in
Snowflake's own VNet when an ACCOUNTADMIN calls ``SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('<storage account
resource id>', '<account>.blob.core.windows.net', 'blob')``; the connection it asks for stays *Pending*
on our storage account until we approve it ("Please note down the endpoint ID and approve the connection
from it on the Azure portal": docs.snowflake.com/en/user-guide/private-manage-endpoints-azure).
``SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO()`` lists Snowflake's endpoints with ``provider_resource_id``,
``subresource`` and ``snowflake_resource_id`` (the private endpoint's Azure resource ID)
(docs.snowflake.com/en/sql-reference/functions/system_get_privatelink_endpoints_info).

We list the storage account's private endpoint connections through ARM and approve the one whose
``properties.privateEndpoint.id`` is that ``snowflake_resource_id``, and no other
(Private Endpoint Connections - List / Put, api-version 2023-05-01:
learn.microsoft.com/rest/api/storagerp/private-endpoint-connections). The same GET of the storage account
tells us whether its public access is still off; the unload path never needs it on.

HTTP goes through azure-mgmt-core's ARM pipeline (bearer token for ``https://management.azure.com/.default``,
ARM retry policy); the tests answer it from a local HTTPS server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError
from azure.core.pipeline.policies import HeadersPolicy, RequestIdPolicy, RetryPolicy, UserAgentPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy

from data_bootstrap.errors import BootstrapError

API_VERSION = "2023-05-01"
ARM = "https://management.azure.com"
APPROVAL_NOTE = "Snowflake outbound private connectivity for the data_bootstrap unload engine"


def storage_account_id(*, subscription_id: str, resource_group: str, account: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.Storage/storageAccounts/{account}"
    )


@dataclass(frozen=True, kw_only=True)
class EndpointConnection:
    name: str
    private_endpoint_id: str
    status: str  # Pending | Approved | Rejected | Disconnected


@dataclass(frozen=True, kw_only=True)
class SnowflakeEndpoint:
    endpoint_id: str  # snowflake_resource_id
    state: str  # endpoint_state: PENDING_CREATION | CREATED | FAILED | ...


def snowflake_endpoint(info: Any, *, account_id: str) -> SnowflakeEndpoint | None:
    """Snowflake's blob endpoint to ``account_id`` from SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO's JSON."""
    entries = json.loads(info) if isinstance(info, str) else info
    for entry in entries if isinstance(entries, list) else []:
        if (
            str(entry.get("provider_resource_id", "")).lower() == account_id.lower()
            and str(entry.get("subresource", "")).lower() == "blob"
        ):
            return SnowflakeEndpoint(
                endpoint_id=str(entry.get("snowflake_resource_id", "")), state=str(entry.get("endpoint_state", ""))
            )
    return None


def public_access_problems(account: dict[str, Any]) -> list[str]:
    """What about the storage account would let traffic in other than through private endpoints."""
    properties = account.get("properties", {})
    problems = []
    if properties.get("publicNetworkAccess") != "Disabled":
        problems.append(f"publicNetworkAccess is {properties.get('publicNetworkAccess', 'not set')!r}, not 'Disabled'")
    if properties.get("networkAcls", {}).get("defaultAction") != "Deny":
        problems.append("networkAcls.defaultAction is not 'Deny'")
    if properties.get("allowBlobPublicAccess", True):
        problems.append("allowBlobPublicAccess is on")
    if properties.get("allowSharedKeyAccess", True):
        problems.append("allowSharedKeyAccess is on")
    return problems


class StorageAccountArm:
    """The two ARM reads and the one write the approval needs, on one storage account."""

    def __init__(self, *, credential: TokenCredential, account_id: str, endpoint: str = ARM, **transport: Any) -> None:
        """``transport``: RequestsTransport options (e.g. ``connection_verify``); retries as ARM clients do."""
        self.account_id, self._endpoint = account_id, endpoint.rstrip("/")
        policies = [
            RequestIdPolicy(),
            HeadersPolicy(),
            UserAgentPolicy(sdk_moniker="globorealty-data-bootstrap"),
            RetryPolicy(retry_total=transport.pop("retry_total", 3)),
            ARMChallengeAuthenticationPolicy(credential, f"{ARM}/.default"),
            ARMHttpLoggingPolicy(),
        ]
        self._client: ARMPipelineClient[Any, Any] = ARMPipelineClient(
            base_url=endpoint, policies=policies, transport=RequestsTransport(**transport)
        )

    def _call(self, method: str, path: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = HttpRequest(method, f"{self._endpoint}{path}?api-version={API_VERSION}", json=body)
        try:
            response = self._client.send_request(request)
            response.raise_for_status()
        except ClientAuthenticationError as error:
            raise BootstrapError(f"ARM refused {action} (authentication)", "sign in: az login") from error
        except HttpResponseError as error:
            if error.status_code == 403:
                raise BootstrapError(
                    f"ARM denied {action} (403)",
                    'apply mlplatform-<env> with [data_asset].engine = "unload": it assigns data-bootstrap the '
                    "custom private endpoint approver role at the storage account (storageAccounts/read, "
                    "privateEndpointConnections/read and /write; docs/access.md, Snowflake unload)",
                ) from None
            raise BootstrapError(f"ARM answered HTTP {error.status_code} while {action}", "see --debug") from error
        except ServiceRequestError as error:
            raise BootstrapError(
                f"ARM unreachable while {action}", "check the network path to management.azure.com"
            ) from error
        document: dict[str, Any] = response.json() if response.text() else {}
        return document

    def account(self) -> dict[str, Any]:
        return self._call("GET", self.account_id, "reading the storage account")

    def connections(self) -> list[EndpointConnection]:
        listed = self._call(
            "GET", f"{self.account_id}/privateEndpointConnections", "listing private endpoint connections"
        )
        return [
            EndpointConnection(
                name=str(item["name"]),
                private_endpoint_id=str(item.get("properties", {}).get("privateEndpoint", {}).get("id", "")),
                status=str(item.get("properties", {}).get("privateLinkServiceConnectionState", {}).get("status", "")),
            )
            for item in listed.get("value", [])
        ]

    def approve(self, connection: EndpointConnection) -> None:
        body = {
            "properties": {
                "privateLinkServiceConnectionState": {
                    "status": "Approved",
                    "description": APPROVAL_NOTE,
                    "actionRequired": "None",
                }
            }
        }
        self._call(
            "PUT",
            f"{self.account_id}/privateEndpointConnections/{connection.name}",
            f"approving {connection.name}",
            body,
        )


def connection_of(connections: Sequence[EndpointConnection], endpoint: SnowflakeEndpoint) -> EndpointConnection | None:
    return next((c for c in connections if c.private_endpoint_id.lower() == endpoint.endpoint_id.lower()), None)


PROVISION_FIX = "as ACCOUNTADMIN run: {sql}; then re-run plan (Snowflake's endpoint needs a few minutes)"


@dataclass(frozen=True, kw_only=True)
class ApprovalPlan:
    """What apply does about Snowflake's connection: ``approve`` it, or nothing (``approved``)."""

    action: str  # approve | approved
    connection: EndpointConnection

    def render(self) -> str:
        if self.action == "approved":
            return f"private endpoint connection {self.connection.name} (Snowflake's endpoint): approved"
        return (
            f"approve private endpoint connection {self.connection.name} "
            f"from Snowflake's endpoint {self.connection.private_endpoint_id}"
        )


def plan_approval(arm: StorageAccountArm, endpoint: SnowflakeEndpoint | None, *, provision_sql: str) -> ApprovalPlan:
    """Refuses (one line) when public access is on, Snowflake has no endpoint to the account, or the
    connection is rejected or missing; otherwise says whether apply approves it."""
    if problems := public_access_problems(arm.account()):
        raise BootstrapError(
            f"the unload engine refuses to run: storage account {arm.account_id.rsplit('/', 1)[1]} is open "
            f"beyond its private endpoints ({'; '.join(problems)})",
            "deploy the mlplatform stack again (it keeps public access off); the unload path needs nothing opened",
        )
    if endpoint is None:
        raise BootstrapError(
            "Snowflake has no private endpoint to the storage account (SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO)",
            PROVISION_FIX.format(sql=provision_sql),
        )
    connection = connection_of(arm.connections(), endpoint)
    if connection is None or connection.status not in ("Pending", "Approved"):
        state = "not on the storage account" if connection is None else connection.status
        raise BootstrapError(
            f"Snowflake's private endpoint {endpoint.endpoint_id} is {state} (endpoint_state {endpoint.state})",
            "deprovision it in Snowflake (SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT) and "
            + PROVISION_FIX.format(sql=provision_sql),
        )
    return ApprovalPlan(action="approved" if connection.status == "Approved" else "approve", connection=connection)


def apply_approval(arm: StorageAccountArm, plan: ApprovalPlan) -> bool:
    """Approves Snowflake's pending connection; True if it changed anything."""
    if plan.action != "approve":
        return False
    arm.approve(plan.connection)
    return True
