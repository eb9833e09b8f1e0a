"""The one module of stacks/ that knows which CDK lane runs (docs/cdktn-lane.md).

Two lanes synthesize the same stacks:

- ``cdktf`` (default): CDKTF 0.21 (deprecated 2025-12-10, frozen) with the prebuilt bindings
  ``cdktf-cdktf-provider-azurerm`` 14.23.1 (azurerm 4.55.0) and ``cdktf-cdktf-provider-time``.
- ``cdktn``: CDK Terrain 0.24, the maintained fork, with ``cdktn-provider-azurerm`` 17.0.0
  (azurerm 4.81.0) and ``cdktn-provider-time`` 14.0.2.

Stacks and constructs import framework classes (``App``, ``TerraformStack``, ...) and provider
binding classes (``StorageAccount``, ``Sleep``, ...) from here, never from ``cdktf``/``cdktn`` or
a binding package. ``main.py`` calls ``select_lane()`` with the configured lane before the first
stack is declared; each name then resolves on first use from that lane's package (the binding
submodule alone, so the fast binding load of stacks/binding_loader.py keeps working). One lane
per process: jsii loads one framework assembly, and mixing ``cdktf`` and ``cdktn`` constructs in
one tree fails. Static type checking sees the cdktf lane's classes; both lanes' bindings generate
the same class names and, for the azurerm 4.x arguments we use, the same signatures. mypy
re-exports the TYPE_CHECKING imports below (pyproject.toml: implicit_reexport for this module).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from cdktf import (
        App,
        Aspects,
        AzurermBackend,
        IAspect,
        ITerraformDependable,
        LocalBackend,
        TerraformOutput,
        TerraformProvider,
        TerraformProviderGeneratorMetadata,
        TerraformResource,
        TerraformStack,
        Token,
    )
    from cdktf_cdktf_provider_azurerm.application_insights import ApplicationInsights
    from cdktf_cdktf_provider_azurerm.container_registry import (
        ContainerRegistry,
        ContainerRegistryGeoreplications,
    )
    from cdktf_cdktf_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
    from cdktf_cdktf_provider_azurerm.data_azurerm_private_dns_zone import DataAzurermPrivateDnsZone
    from cdktf_cdktf_provider_azurerm.data_azurerm_resource_group import DataAzurermResourceGroup
    from cdktf_cdktf_provider_azurerm.data_azurerm_user_assigned_identity import DataAzurermUserAssignedIdentity
    from cdktf_cdktf_provider_azurerm.federated_identity_credential import FederatedIdentityCredential
    from cdktf_cdktf_provider_azurerm.key_vault import (
        KeyVault,
        KeyVaultNetworkAcls,
    )
    from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
    from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
        MonitorDiagnosticSetting,
        MonitorDiagnosticSettingEnabledLog,
        MonitorDiagnosticSettingEnabledMetric,
    )
    from cdktf_cdktf_provider_azurerm.monitor_private_link_scope import MonitorPrivateLinkScope
    from cdktf_cdktf_provider_azurerm.monitor_private_link_scoped_service import MonitorPrivateLinkScopedService
    from cdktf_cdktf_provider_azurerm.network_security_group import (
        NetworkSecurityGroup,
        NetworkSecurityGroupSecurityRule,
    )
    from cdktf_cdktf_provider_azurerm.private_dns_zone import PrivateDnsZone
    from cdktf_cdktf_provider_azurerm.private_dns_zone_virtual_network_link import PrivateDnsZoneVirtualNetworkLink
    from cdktf_cdktf_provider_azurerm.private_endpoint import (
        PrivateEndpoint,
        PrivateEndpointPrivateDnsZoneGroup,
        PrivateEndpointPrivateServiceConnection,
    )
    from cdktf_cdktf_provider_azurerm.provider import (
        AzurermProvider,
        AzurermProviderFeatures,
        AzurermProviderFeaturesKeyVault,
        AzurermProviderFeaturesResourceGroup,
        AzurermProviderFeaturesStorage,
    )
    from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
    from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
    from cdktf_cdktf_provider_azurerm.role_definition import (
        RoleDefinition,
        RoleDefinitionPermissions,
    )
    from cdktf_cdktf_provider_azurerm.storage_account import (
        StorageAccount,
        StorageAccountBlobProperties,
        StorageAccountBlobPropertiesContainerDeleteRetentionPolicy,
        StorageAccountBlobPropertiesDeleteRetentionPolicy,
        StorageAccountCustomerManagedKey,
        StorageAccountIdentity,
        StorageAccountNetworkRules,
        StorageAccountShareProperties,
        StorageAccountSharePropertiesRetentionPolicy,
    )
    from cdktf_cdktf_provider_azurerm.storage_container import StorageContainer
    from cdktf_cdktf_provider_azurerm.subnet import Subnet
    from cdktf_cdktf_provider_azurerm.subnet_network_security_group_association import (
        SubnetNetworkSecurityGroupAssociation,
    )
    from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
    from cdktf_cdktf_provider_azurerm.virtual_network import VirtualNetwork
    from cdktf_cdktf_provider_azurerm.virtual_network_peering import VirtualNetworkPeering
    from cdktf_cdktf_provider_time.provider import TimeProvider
    from cdktf_cdktf_provider_time.sleep import Sleep

LaneName = Literal["cdktf", "cdktn"]


@dataclass(frozen=True, kw_only=True)
class Lane:
    """Where one lane's framework and bindings live (Python module and npm package names)."""

    name: LaneName
    framework: str
    # provider name -> Python package of its prebuilt binding
    bindings: Mapping[str, str]
    # Python packages stacks/binding_loader.py registers bare (their __init__ imports every
    # submodule); empty where the package imports its submodules lazily already.
    bare_packages: tuple[str, ...] = ()
    # npm packages whose index.js lazy_binding_hook.cjs turns into getters in the jsii kernel.
    lazy_npm_packages: tuple[str, ...] = ()


LANES: dict[LaneName, Lane] = {
    "cdktf": Lane(
        name="cdktf",
        framework="cdktf",
        bindings={"azurerm": "cdktf_cdktf_provider_azurerm", "time": "cdktf_cdktf_provider_time"},
        bare_packages=("cdktf_cdktf_provider_azurerm",),
        lazy_npm_packages=("@cdktf/provider-azurerm",),
    ),
    # cdktn's Python bindings import submodules on first access already (package __getattr__),
    # so the Python side steps aside; its npm index.js still requires all ~1,550 submodules.
    "cdktn": Lane(
        name="cdktn",
        framework="cdktn",
        bindings={"azurerm": "cdktn_provider_azurerm", "time": "cdktn_provider_time"},
        lazy_npm_packages=("@cdktn/provider-azurerm",),
    ),
}
DEFAULT_LANE: LaneName = "cdktf"

# "<provider>.<binding submodule>" -> the classes stacks use from it (same in every lane).
BINDING_CLASSES: dict[str, tuple[str, ...]] = {
    "azurerm.application_insights": ("ApplicationInsights",),
    "azurerm.container_registry": ("ContainerRegistry", "ContainerRegistryGeoreplications"),
    "azurerm.data_azurerm_client_config": ("DataAzurermClientConfig",),
    "azurerm.data_azurerm_private_dns_zone": ("DataAzurermPrivateDnsZone",),
    "azurerm.data_azurerm_resource_group": ("DataAzurermResourceGroup",),
    "azurerm.data_azurerm_user_assigned_identity": ("DataAzurermUserAssignedIdentity",),
    "azurerm.federated_identity_credential": ("FederatedIdentityCredential",),
    "azurerm.key_vault": ("KeyVault", "KeyVaultNetworkAcls"),
    "azurerm.log_analytics_workspace": ("LogAnalyticsWorkspace",),
    "azurerm.monitor_diagnostic_setting": (
        "MonitorDiagnosticSetting",
        "MonitorDiagnosticSettingEnabledLog",
        "MonitorDiagnosticSettingEnabledMetric",
    ),
    "azurerm.monitor_private_link_scope": ("MonitorPrivateLinkScope",),
    "azurerm.monitor_private_link_scoped_service": ("MonitorPrivateLinkScopedService",),
    "azurerm.network_security_group": ("NetworkSecurityGroup", "NetworkSecurityGroupSecurityRule"),
    "azurerm.private_dns_zone": ("PrivateDnsZone",),
    "azurerm.private_dns_zone_virtual_network_link": ("PrivateDnsZoneVirtualNetworkLink",),
    "azurerm.private_endpoint": (
        "PrivateEndpoint",
        "PrivateEndpointPrivateDnsZoneGroup",
        "PrivateEndpointPrivateServiceConnection",
    ),
    "azurerm.provider": (
        "AzurermProvider",
        "AzurermProviderFeatures",
        "AzurermProviderFeaturesKeyVault",
        "AzurermProviderFeaturesResourceGroup",
        "AzurermProviderFeaturesStorage",
    ),
    "azurerm.resource_group": ("ResourceGroup",),
    "azurerm.role_assignment": ("RoleAssignment",),
    "azurerm.role_definition": ("RoleDefinition", "RoleDefinitionPermissions"),
    "azurerm.storage_account": (
        "StorageAccount",
        "StorageAccountBlobProperties",
        "StorageAccountBlobPropertiesContainerDeleteRetentionPolicy",
        "StorageAccountBlobPropertiesDeleteRetentionPolicy",
        "StorageAccountCustomerManagedKey",
        "StorageAccountIdentity",
        "StorageAccountNetworkRules",
        "StorageAccountShareProperties",
        "StorageAccountSharePropertiesRetentionPolicy",
    ),
    "azurerm.storage_container": ("StorageContainer",),
    "azurerm.subnet": ("Subnet",),
    "azurerm.subnet_network_security_group_association": ("SubnetNetworkSecurityGroupAssociation",),
    "azurerm.user_assigned_identity": ("UserAssignedIdentity",),
    "azurerm.virtual_network": ("VirtualNetwork",),
    "azurerm.virtual_network_peering": ("VirtualNetworkPeering",),
    "time.provider": ("TimeProvider",),
    "time.sleep": ("Sleep",),
}
FRAMEWORK_NAMES: tuple[str, ...] = (
    "App",
    "Aspects",
    "AzurermBackend",
    "IAspect",
    "ITerraformDependable",
    "LocalBackend",
    "TerraformOutput",
    "TerraformProvider",
    "TerraformProviderGeneratorMetadata",
    "TerraformResource",
    "TerraformStack",
    "Token",
)
_SOURCE: dict[str, str] = {name: module for module, names in BINDING_CLASSES.items() for name in names}
_selected: list[Lane] = []


def select_lane(name: LaneName) -> Lane:
    """Fix the lane of this process; a second, different choice is a programming error."""
    lane = LANES[name]
    if _selected and _selected[0] is not lane:
        raise RuntimeError(f"lane {_selected[0].name} already selected in this process; one lane per process")
    _selected[:] = [lane]
    return lane


def current_lane() -> Lane:
    """The selected lane; the default one when nothing selected any (tests, tools)."""
    return _selected[0] if _selected else select_lane(DEFAULT_LANE)


def resolve(name: str) -> object:
    """A framework or binding class of the current lane, imported on first use."""
    if name not in FRAMEWORK_NAMES and name not in _SOURCE:  # checked first: no lane choice from a typo
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    lane = current_lane()
    if name in FRAMEWORK_NAMES:
        module = lane.framework
    else:
        provider, submodule = _SOURCE[name].split(".", 1)
        package = lane.bindings[provider]
        if package in lane.bare_packages and package not in sys.modules:
            # Nobody chose a load mode (main.py does, before this): the fast one, so a test or a tool
            # that imports a construct does not pay the package __init__ (all ~1,530 submodules).
            from stacks.binding_loader import load_binding  # here: binding_loader imports this module

            load_binding(package=package)
        module = f"{package}.{submodule}"
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolved once per process
    return value


# Hidden from mypy, which then checks every imported name against the TYPE_CHECKING block above.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        if name.startswith("__"):  # the import system probes __path__ & co.: no lane choice from those
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return resolve(name)
