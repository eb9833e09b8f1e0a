"""Typed, frozen environment configuration and its validation.

This module is pure: it turns an already-parsed mapping into frozen objects or
raises ``ConfigError`` with a one-line message. Reading files and environment
variables happens in ``main.py`` (and the ``data_bootstrap`` CLI) only.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import re
import tomllib
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# --- errors -----------------------------------------------------------------


class ConfigError(ValueError):
    """A config mistake, rendered as one line: where, what rule, how to fix."""

    def __init__(self, source: str, key: str, problem: str, fix: str) -> None:
        self.source, self.key, self.problem, self.fix = source, key, problem, fix
        super().__init__(f"{source}: {key}: {problem}; fix: {fix}")

    @property
    def errors(self) -> tuple[ConfigError, ...]:
        """Every mistake this error stands for, one line each."""
        return (self,)


class AggregateConfigError(ConfigError):
    """Several mistakes found in one pass; ``source``/``key``/... describe the first."""

    def __init__(self, errors: list[ConfigError]) -> None:
        first = errors[0]
        super().__init__(first.source, first.key, first.problem, first.fix)
        self._errors = tuple(errors)
        self.args = ("\n".join(str(error) for error in errors),)

    @property
    def errors(self) -> tuple[ConfigError, ...]:
        return self._errors


def raise_all(errors: list[ConfigError]) -> None:
    """Raise the collected mistakes (one as itself, several together); return when there are none."""
    flat = [single for error in errors for single in error.errors]
    if len(flat) == 1:
        raise flat[0]
    if flat:
        raise AggregateConfigError(flat)


# --- field rules ------------------------------------------------------------

Check = Callable[[Any], tuple[str, str] | None]
"""A check returns None when the value is fine, else (problem, fix)."""


def _name_rule(pattern: str, rule: str, example: str) -> Check:
    compiled = re.compile(pattern)

    def check(value: Any) -> tuple[str, str] | None:
        if compiled.fullmatch(value):
            return None
        return (f"{value!r} breaks the Azure naming rule: {rule}", f"use a name like {example!r}")

    return check


# Azure naming rules: learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
RESOURCE_GROUP_NAME = _name_rule(
    r"[\w\-.()]{0,89}[\w\-()]", "1-90 letters, digits, '_', '-', '.', '()', not ending in '.'", "rg-globorealty-ml-dev"
)
STORAGE_ACCOUNT_NAME = _name_rule(r"[a-z0-9]{3,24}", "3-24 lowercase letters and digits", "stgloborealtymldev")
KEY_VAULT_NAME = _name_rule(
    r"(?!.*--)[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]",
    "3-24 letters, digits and '-', starting with a letter, ending with a letter or digit, no '--'",
    "kv-globorealty-dev",
)
CONTAINER_REGISTRY_NAME = _name_rule(r"[A-Za-z0-9]{5,50}", "5-50 letters and digits", "crgloborealtymldev")
WORKSPACE_NAME = _name_rule(
    r"[A-Za-z0-9][A-Za-z0-9_-]{2,32}",
    "3-33 letters, digits, '-', '_', starting with a letter or digit",
    "mlw-globorealty-dev",
)
LOG_ANALYTICS_NAME = _name_rule(
    r"[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]",
    "4-63 letters, digits and '-', starting and ending alphanumeric",
    "log-globorealty-dev",
)
APP_INSIGHTS_NAME = _name_rule(
    r"[^%&\\?/]{1,259}[^%&\\?/. ]",
    "1-260 characters without %&\\?/ and not ending in '.' or space",
    "appi-globorealty-dev",
)
IDENTITY_NAME = _name_rule(
    r"[A-Za-z0-9][A-Za-z0-9_-]{2,127}",
    "3-128 letters, digits, '-', '_', starting alphanumeric",
    "id-globorealty-ml-dev",
)
VNET_NAME = _name_rule(
    r"[A-Za-z0-9](?:[\w.-]{0,62}[\w])?",
    "2-64 letters, digits, '_', '.', '-', starting alphanumeric, ending alphanumeric or '_'",
    "vnet-globorealty-dev",
)
LOCATION = _name_rule(r"[a-z][a-z0-9]{2,30}", "an Azure region name in lowercase without spaces", "westeurope")
PROJECT = _name_rule(
    r"[a-z][a-z0-9-]{1,30}", "2-31 lowercase letters, digits and '-', starting with a letter", "globorealty"
)
ENV_NAME = _name_rule(r"[a-z][a-z0-9]{1,9}", "2-10 lowercase letters and digits, starting with a letter", "dev")
SECRET_NAME = _name_rule(
    r"[A-Za-z0-9-]{1,127}", "1-127 letters, digits and '-' (Key Vault secret name)", "snowflake-private-key"
)
SNOWFLAKE_IDENTIFIER = _name_rule(r"[A-Za-z_][A-Za-z0-9_$]{0,254}", "an unquoted Snowflake identifier", "GLOBOREALTY")
SNOWFLAKE_ACCOUNT = _name_rule(
    r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}",
    "a Snowflake account identifier such as 'myorg-myaccount'",
    "globorealty-prod01",
)
DATA_ASSET_NAME = _name_rule(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}", "letters, digits, '_', '.', '-'", "raw_house_data")
CONTAINER_NAME = _name_rule(
    r"(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", "3-63 lowercase letters, digits and '-', no '--'", "rawdata"
)


_UNIQUE_SUFFIX = _name_rule(r"[a-z0-9]{0,6}", "0-6 lowercase letters and digits", "x7k2")
FQDN = _name_rule(
    r"(\*\.)?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
    "a lowercase host name, optionally starting with '*.'",
    "pypi.org",
)
OUTBOUND_RULE_NAME = _name_rule(r"[a-z][a-z0-9-]{1,62}", "2-63 lowercase letters, digits and '-'", "pypi")
COMPUTE_NAME = _name_rule(
    r"[A-Za-z][A-Za-z0-9-]{1,15}", "2-16 letters, digits and '-', starting with a letter", "cpu-image-build"
)
VM_SIZE = _name_rule(r"Standard_[A-Za-z0-9_]+", "an Azure VM size such as 'Standard_D4s_v5'", "Standard_D4s_v5")


def _fqdn_rules(value: Any) -> tuple[str, str] | None:
    for name, fqdn in value.items():
        if (verdict := OUTBOUND_RULE_NAME(name)) is not None or (verdict := FQDN(fqdn)) is not None:
            return verdict
    return None


def _each(check: Check) -> Check:
    def check_all(values: Any) -> tuple[str, str] | None:
        for item in values:
            if (verdict := check(item)) is not None:
                return verdict
        return None

    return check_all


def _tag_value(value: Any) -> tuple[str, str] | None:
    if not value.strip():
        return ("must not be empty", "set a non-empty value")
    if len(value) > 256 or re.search(r"[<>%&\\?/]", value):
        return (
            f"{value!r} is not a valid tag value (at most 256 characters, none of <>%&\\?/)",
            "shorten it or drop those characters",
        )
    return None


def _between(low: int, high: int) -> Check:
    def check(value: Any) -> tuple[str, str] | None:
        if low <= value <= high:
            return None
        return (f"{value} is outside {low}..{high}", f"use a whole number from {low} to {high}")

    return check


def _cidr(value: Any) -> tuple[str, str] | None:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        return (f"{value!r} is not a valid IPv4 CIDR ({error})", "write it like '10.20.0.0/16' with the host bits zero")
    return None


def _select_only(value: Any) -> tuple[str, str] | None:
    from stacks.readonly_sql import read_only_problem  # parses with sqlglot: loaded only when a query is checked

    return read_only_problem(value)


def rule(check: Check | None = None, *, default: Any = dataclasses.MISSING, doc: str = "") -> Any:
    """A dataclass field carrying its validation rule and documentation."""
    metadata = {"check": check, "doc": doc}
    if default is dataclasses.MISSING:
        return field(metadata=metadata)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


# --- the model ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EnvironmentSection:
    name: str = rule(ENV_NAME, doc="environment name; must equal the file name")
    location: str = rule(LOCATION, doc="Azure region, e.g. westeurope")
    project: str = rule(
        PROJECT,
        default="globorealty",
        doc="project tag and the <project> in job identity names (id-<project>-<job>-<env>)",
    )


@dataclass(frozen=True, kw_only=True)
class TagsSection:
    owner: str = rule(_tag_value, doc="team or person accountable for the estate")
    cost_center: str = rule(_tag_value, doc="cost centre charged for the estate")
    extra: dict[str, str] = rule(default={}, doc="additional tags applied to every taggable resource")


@dataclass(frozen=True, kw_only=True)
class NamesSection:
    resource_group: str = rule(RESOURCE_GROUP_NAME)
    virtual_network: str = rule(VNET_NAME)
    identity: str = rule(IDENTITY_NAME)
    log_analytics: str = rule(LOG_ANALYTICS_NAME)
    application_insights: str = rule(APP_INSIGHTS_NAME)
    storage_account: str = rule(STORAGE_ACCOUNT_NAME)
    key_vault: str = rule(KEY_VAULT_NAME)
    container_registry: str = rule(CONTAINER_REGISTRY_NAME)
    workspace: str = rule(WORKSPACE_NAME)
    cmk_key_vault: str = rule(KEY_VAULT_NAME, doc="Key Vault holding only customer-managed keys (no workload access)")
    unique_suffix: str = rule(
        _UNIQUE_SUFFIX,
        default="",
        doc="appended to the globally unique names (storage, Key Vaults, registry) so a deleted name is not reused",
    )

    def globally_unique(self, name: str) -> str:
        """A storage, Key Vault or registry name with the collision-resistant suffix."""
        return f"{name}{self.unique_suffix}"


@dataclass(frozen=True, kw_only=True)
class NetworkSection:
    address_space: str = rule(_cidr, doc="VNet address space")
    private_endpoint_subnet: str = rule(_cidr, doc="subnet for private endpoints, inside address_space")
    compute_subnet: str = rule(_cidr, doc="subnet for AML compute, inside address_space")


ManagedNetwork = Literal["Disabled", "AllowInternetOutbound", "AllowOnlyApprovedOutbound"]
Replication = Literal["LRS", "ZRS", "GRS", "GZRS", "RAGRS", "RAGZRS"]


@dataclass(frozen=True, kw_only=True)
class WorkspaceSection:
    managed_network: ManagedNetwork = rule(
        default="AllowOnlyApprovedOutbound", doc="AML managed network isolation mode"
    )
    high_business_impact: bool = rule(default=True, doc="HBI workspace: less diagnostic data collected by Microsoft")
    # Microsoft's list for pip/conda under AllowOnlyApprovedOutbound (azure-ai-docs
    # articles/machine-learning/includes/recommended-network-outbound.md). Each FQDN rule needs
    # the managed network's Azure Firewall, which is billed (how-to-managed-network.md, "Pricing").
    outbound_fqdn_rules: dict[str, str] = rule(
        _fqdn_rules,
        default={
            "pypi": "pypi.org",
            "pythonhosted": "*.pythonhosted.org",
            "anaconda": "anaconda.com",
            "anaconda-sub": "*.anaconda.com",
            "anaconda-org": "*.anaconda.org",
        },
        doc="managed network FQDN outbound rules, name -> host (each adds Azure Firewall cost)",
    )
    firewall_sku: Literal["Standard", "Basic"] = rule(
        default="Standard", doc="Azure Firewall SKU the managed network uses for FQDN rules"
    )
    rbac_propagation_seconds: int = rule(
        _between(30, 1800), default=300, doc="wait between role assignments and the resources that use them"
    )


@dataclass(frozen=True, kw_only=True)
class ComputeSection:
    image_build_cluster: str = rule(COMPUTE_NAME, default="cpu-image-build", doc="compute cluster for image builds")
    vm_size: str = rule(VM_SIZE, default="Standard_D4s_v5", doc="VM size of the image build cluster")
    max_nodes: int = rule(_between(1, 100), default=2, doc="maximum nodes of the image build cluster")
    idle_minutes_before_scale_down: int = rule(_between(2, 1440), default=15, doc="idle time before nodes go away")


@dataclass(frozen=True, kw_only=True)
class StorageSection:
    replication_type: Replication = rule(default="ZRS")
    blob_soft_delete_days: int = rule(_between(1, 365), default=14)
    container_soft_delete_days: int = rule(_between(1, 365), default=14)
    raw_container: str = rule(CONTAINER_NAME, default="rawdata", doc="bronze container")
    curated_container: str = rule(CONTAINER_NAME, default="curated", doc="silver container")


@dataclass(frozen=True, kw_only=True)
class KeyVaultSection:
    sku: Literal["standard", "premium"] = rule(default="premium")
    soft_delete_days: int = rule(_between(7, 90), default=90)


@dataclass(frozen=True, kw_only=True)
class RegistrySection:
    zone_redundancy: bool = rule(default=True)
    untagged_retention_days: int = rule(_between(0, 365), default=30)
    geo_replication_locations: tuple[str, ...] = rule(
        _each(LOCATION), default=(), doc="extra regions holding a registry replica (each one costs a Premium registry)"
    )


@dataclass(frozen=True, kw_only=True)
class EncryptionSection:
    storage_customer_managed_key: bool = rule(
        default=True, doc="encrypt the storage account with a Key Vault key (RSA 3072, rotated yearly)"
    )


@dataclass(frozen=True, kw_only=True)
class MonitoringSection:
    log_retention_days: int = rule(_between(30, 730), default=30)


@dataclass(frozen=True, kw_only=True)
class BackendSection:
    type: Literal["local", "azurerm"] = rule(default="local", doc="Terraform state backend")
    resource_group_name: str = rule(default="", doc="azurerm backend: resource group of the state account")
    storage_account_name: str = rule(default="", doc="azurerm backend: state storage account")
    container_name: str = rule(default="tfstate", doc="azurerm backend: state container")
    key_vault_name: str = rule(
        default="", doc="azurerm backend: Key Vault holding only the state account's customer-managed key"
    )


@dataclass(frozen=True, kw_only=True)
class SnowflakeSection:
    account: str = rule(SNOWFLAKE_ACCOUNT)
    user: str = rule(SNOWFLAKE_IDENTIFIER)
    role: str = rule(SNOWFLAKE_IDENTIFIER)
    warehouse: str = rule(SNOWFLAKE_IDENTIFIER)
    database: str = rule(SNOWFLAKE_IDENTIFIER, default="GLOBOREALTY")
    schema: str = rule(SNOWFLAKE_IDENTIFIER, default="REAL_ESTATE")
    query: str = rule(_select_only, default="SELECT * FROM GLOBOREALTY.REAL_ESTATE.RAW")
    private_key_secret: str = rule(
        SECRET_NAME, default="snowflake-private-key", doc="Key Vault secret holding the PEM key"
    )
    private_key_passphrase_secret: str = rule(
        default="", doc="optional Key Vault secret holding the key's passphrase (empty: unencrypted key)"
    )
    connection_name: str = rule(
        DATA_ASSET_NAME, default="snowflake-globorealty", doc="name the connection is registered under"
    )


def _relative_folder(value: Any) -> tuple[str, str] | None:
    # "/" or "a//b" would write blobs under a name the registered azureml:// path does not point at
    if re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*", value) and not re.search(r"(^|/)\.\.?(/|$)", value):
        return None
    return (
        f"{value!r} is not a relative folder (segments of letters, digits, '_', '.', '-' joined by single '/', "
        "no leading or trailing '/', no '.' or '..')",
        "use a folder like 'raw_house_data'",
    )


ImportEngine = Literal["stream", "unload"]


@dataclass(frozen=True, kw_only=True)
class DataAssetSection:
    name: str = rule(DATA_ASSET_NAME, default="raw_house_data")
    datastore: str = rule(DATA_ASSET_NAME, default="rawdata")
    path_prefix: str = rule(
        _relative_folder,
        default="raw_house_data",
        doc="folder in the datastore under which each version gets its own folder",
    )
    engine: ImportEngine = rule(
        default="stream",
        doc="'stream': rows pass through the runner; 'unload': Snowflake COPY INTO the raw container ([unload])",
    )


def _object_id(value: Any) -> tuple[str, str] | None:
    if value == "" or re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value):
        return None
    return (
        f"{value!r} is not an Entra object ID (lowercase GUID)",
        "copy the object ID of the Snowflake storage integration's enterprise application, or leave it empty",
    )


def _optional_identifier(value: Any) -> tuple[str, str] | None:
    return None if value == "" else SNOWFLAKE_IDENTIFIER(value)


@dataclass(frozen=True, kw_only=True)
class UnloadSection:
    """The ``unload`` engine: Snowflake writes the Parquet parts into the raw container itself."""

    storage_integration: str = rule(
        SNOWFLAKE_IDENTIFIER, default="AML_RAW_UNLOAD", doc="Snowflake storage integration for the raw container"
    )
    stage: str = rule(
        SNOWFLAKE_IDENTIFIER, default="AML_RAW_UNLOAD_STAGE", doc="external stage (in snowflake.database.schema)"
    )
    integration_principal_id: str = rule(
        _object_id,
        default="",
        doc="object ID of the integration's service principal in our tenant; granted write on the raw container",
    )
    warehouse: str = rule(
        _optional_identifier,
        default="",
        doc="warehouse that runs the unload (size it for the table, see docs/data_bootstrap.md); "
        "empty: snowflake.warehouse",
    )
    # COPY INTO <location> MAX_FILE_SIZE: default 16 MB, at most 5 GB on Azure
    # (docs.snowflake.com/en/sql-reference/sql/copy-into-location, copy options)
    max_file_size: int = rule(
        _between(1_000_000, 5_000_000_000),
        default=256_000_000,
        doc="upper bound in bytes of each Parquet part Snowflake writes (COPY INTO MAX_FILE_SIZE)",
    )


CONTRACT_KINDS = ("text", "integer", "number", "boolean", "date", "timestamp")


def _contract_columns(value: Any) -> tuple[str, str] | None:
    for column, kind in value.items():
        if kind not in CONTRACT_KINDS:
            return (f"column {column!r}: unknown kind {kind!r}", f"use one of {', '.join(CONTRACT_KINDS)}")
    return None if value else ("must list at least one column", "add e.g. price = 'number'")


def _contract_ranges(value: Any) -> tuple[str, str] | None:
    for column, bounds in value.items():
        if not re.fullmatch(r"\s*(-?\d+(\.\d+)?)?\s*\.\.\s*(-?\d+(\.\d+)?)?\s*", bounds) or bounds.strip() == "..":
            return (f"column {column!r}: {bounds!r} is not a range", "write 'MIN..MAX', 'MIN..' or '..MAX', e.g. '0..'")
    return None


@dataclass(frozen=True, kw_only=True)
class DataContractSection:
    """What the imported data must look like; checked before a version is registered, and by verify.
    Column names compare case-insensitively (Snowflake returns upper case)."""

    columns: dict[str, str] = rule(
        _contract_columns,
        default={
            "market": "text",
            "location": "text",
            "property_type": "text",
            "square_feet": "number",
            "bedrooms": "integer",
            "year_built": "integer",
            "price": "number",
        },
        doc="required columns and their kind: text, integer (whole numbers), number, boolean, date, timestamp",
    )
    not_null: tuple[str, ...] = rule(default=("market", "price"), doc="columns that must not contain NULL (or NaN)")
    allowed_values: dict[str, str] = rule(
        default={"market": "urban,suburban,waterfront"},
        doc="column -> comma-separated values a text column may hold (compared case-insensitively)",
    )
    ranges: dict[str, str] = rule(
        _contract_ranges,
        default={"price": "0..", "square_feet": "1..", "bedrooms": "0..", "year_built": "1600..2100"},
        doc="column -> 'MIN..MAX' (either side may be empty) every non-NULL value must lie in",
    )
    min_rows: int = rule(_between(1, 10**12), default=1, doc="fewest rows an import may have")


_DNS_LABEL = _name_rule(
    r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "a Kubernetes namespace: 1-63 lowercase letters, digits, '-'", "ml-pipelines"
)
_HTTPS_URL = _name_rule(
    r"https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/-]*)?", "an https:// URL", "https://example.com/"
)
_VNET_ID = _name_rule(
    r"(/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[\w\-.()]+/providers/Microsoft\.Network/virtualNetworks/[\w.-]+)?",
    "empty, or a virtual network resource ID",
    "/subscriptions/<guid>/resourceGroups/rg-aks/providers/Microsoft.Network/virtualNetworks/vnet-aks",
)
_SUBNET_ID = _name_rule(
    r"(/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[\w\-.()]+/providers/Microsoft\.Network/virtualNetworks/[\w.-]+"
    r"/subnets/[\w.-]+)?",
    "empty, or a subnet resource ID",
    "/subscriptions/<guid>/resourceGroups/rg-aks/providers/Microsoft.Network/virtualNetworks/vnet-aks/subnets/snet-pe",
)
_GITHUB_REPOSITORY = _name_rule(
    r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", "owner/name of a GitHub repository", "globorealty/ml-platform"
)


_KEY_VAULT_ID = _name_rule(
    r"(/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[\w\-.()]+/providers/Microsoft\.KeyVault/vaults/[A-Za-z0-9-]{3,24})?",
    "empty, or a Key Vault resource ID",
    "/subscriptions/<guid>/resourceGroups/rg-aks/providers/Microsoft.KeyVault/vaults/kv-automation",
)
_SERVICE_ACCOUNT = _name_rule(
    r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?:[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?",
    "<namespace>:<service account name> of a Kubernetes ServiceAccount",
    "argo:argo-server",
)


@dataclass(frozen=True, kw_only=True)
class RunnersSection:
    """Where the pipelines run: the one source of truth for the identities' federated subjects."""

    namespace: str = rule(_DNS_LABEL, default="ml-pipelines", doc="Kubernetes namespace of the Argo pipelines")
    oidc_issuer_url: str = rule(_HTTPS_URL, doc="OIDC issuer URL of the AKS cluster running the pipelines")
    virtual_network_id: str = rule(
        _VNET_ID, default="", doc="resource ID of the runner (AKS) VNet, peered with the platform VNet"
    )
    private_endpoint_subnet_id: str = rule(
        _SUBNET_ID,
        default="",
        doc="subnet of the runner VNet for the state account's private endpoints (azurerm backends)",
    )
    github_repository: str = rule(
        _GITHUB_REPOSITORY, default="globorealty/ml-platform", doc="GitHub repository whose pull requests plan"
    )
    artifact_container: str = rule(
        CONTAINER_NAME,
        default="argo-artifacts",
        doc="Argo artifact repository: container in the backend storage account (backend.storage_account_name)",
    )
    resource_group: str = rule(
        RESOURCE_GROUP_NAME, doc="resource group of the runner identities (created by the access stack, first)"
    )
    automation_key_vault_id: str = rule(
        _KEY_VAULT_ID,
        default="",
        doc="resource ID of the Key Vault External Secrets syncs the automation secrets from (azurerm backends)",
    )
    argo_server_service_account: str = rule(
        _SERVICE_ACCOUNT,
        default="argo:argo-server",
        doc="<namespace>:<name> of the Argo server's ServiceAccount (reads the artifact repository)",
    )


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    """Everything one environment needs, validated."""

    environment: EnvironmentSection
    tags: TagsSection
    names: NamesSection
    network: NetworkSection
    workspace: WorkspaceSection = rule(default=WorkspaceSection())
    compute: ComputeSection = rule(default=ComputeSection())
    storage: StorageSection = rule(default=StorageSection())
    key_vault: KeyVaultSection = rule(default=KeyVaultSection())
    registry: RegistrySection = rule(default=RegistrySection())
    monitoring: MonitoringSection = rule(default=MonitoringSection())
    encryption: EncryptionSection = rule(default=EncryptionSection())
    backend: BackendSection = rule(default=BackendSection())
    snowflake: SnowflakeSection
    data_asset: DataAssetSection = rule(default=DataAssetSection())
    data_contract: DataContractSection = rule(default=DataContractSection())
    unload: UnloadSection = rule(default=UnloadSection())
    runners: RunnersSection

    @property
    def name(self) -> str:
        return self.environment.name

    def common_tags(self) -> dict[str, str]:
        """Tags every taggable resource carries."""
        return {
            "environment": self.environment.name,
            "project": self.environment.project,
            "provisioner": "cdktf",
            "owner": self.tags.owner,
            "cost_center": self.tags.cost_center,
            **dict(sorted(self.tags.extra.items())),
        }


# --- parsing -----------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) is tuple:
        return "a list of strings"
    if typing.get_origin(annotation) is dict:
        return "a table of strings"
    return {str: "a string", int: "a whole number", bool: "true or false"}.get(annotation, str(annotation))


def _check_type(annotation: Any, value: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return value in typing.get_args(annotation)
    if origin is tuple:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _unknown_key_fix(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}remove it or use one of: {', '.join(allowed)}"


def _field_value(spec: dataclasses.Field[Any], annotation: Any, data: Mapping[str, Any], key: str, source: str) -> Any:
    """The validated value of one plain field (dataclasses.MISSING when it takes its default)."""
    name = spec.name
    if name not in data:
        if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ConfigError(source, key, "missing value", f"add {name} = <{_type_name(annotation)}>")
        return dataclasses.MISSING
    value = data[name]
    if not _check_type(annotation, value):
        raise ConfigError(source, key, f"{value!r} is not {_type_name(annotation)}", f"set {_type_name(annotation)}")
    check = spec.metadata.get("check")
    if check is not None and (verdict := check(value)) is not None:
        raise ConfigError(source, key, *verdict)
    return tuple(value) if typing.get_origin(annotation) is tuple else value


def _build(cls: type[Any], data: Mapping[str, Any], source: str, prefix: str, errors: list[ConfigError]) -> Any:
    """Build ``cls`` from ``data``; append every mistake to ``errors`` (then the result is None)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    found = len(errors)
    for key in data:
        if key not in fields:
            errors.append(ConfigError(source, prefix + key, "unknown key", _unknown_key_fix(key, sorted(fields))))
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        annotation = hints[name]
        key = prefix + name
        if dataclasses.is_dataclass(annotation):
            section = data.get(name, {})
            if name not in data and spec.default is dataclasses.MISSING:
                errors.append(ConfigError(source, key, "missing section", f"add a [{key}] table"))
            elif not isinstance(section, dict):
                errors.append(ConfigError(source, key, "must be a table", f"write it as [{key}] with keys below it"))
            else:
                values[name] = _build(typing.cast(type, annotation), section, source, key + ".", errors)
            continue
        try:
            value = _field_value(spec, annotation, data, key, source)
        except ConfigError as error:
            errors.append(error)
            continue
        if value is not dataclasses.MISSING:
            values[name] = value
    return cls(**values) if len(errors) == found else None


def _validate_network(config: EnvironmentConfig, source: str, _expected_name: str) -> None:
    network = config.network
    vnet = ipaddress.IPv4Network(network.address_space)
    subnets = {
        "network.private_endpoint_subnet": ipaddress.IPv4Network(network.private_endpoint_subnet),
        "network.compute_subnet": ipaddress.IPv4Network(network.compute_subnet),
    }
    for key, subnet in subnets.items():
        if not subnet.subnet_of(vnet):
            raise ConfigError(
                source, key, f"{subnet} is outside network.address_space {vnet}", f"pick a range inside {vnet}"
            )
        if subnet.prefixlen > 29:
            raise ConfigError(source, key, f"{subnet} is smaller than Azure's minimum subnet /29", "use /29 or larger")
    (key_a, a), (key_b, b) = subnets.items()
    if a.overlaps(b):
        raise ConfigError(source, key_b, f"{b} overlaps {key_a} {a}", "give each subnet its own range")


def _validate_unique_names(config: EnvironmentConfig, source: str, _expected_name: str) -> None:
    names = config.names
    checks = {
        "storage_account": STORAGE_ACCOUNT_NAME,
        "key_vault": KEY_VAULT_NAME,
        "cmk_key_vault": KEY_VAULT_NAME,
        "container_registry": CONTAINER_REGISTRY_NAME,
    }
    for name, check in checks.items():
        if (verdict := check(names.globally_unique(getattr(names, name)))) is not None:
            raise ConfigError(
                source,
                f"names.{name}",
                f"with names.unique_suffix: {verdict[0]}",
                f"shorten names.{name} or names.unique_suffix",
            )


def _validate_backend(config: EnvironmentConfig, source: str, _expected_name: str) -> None:
    backend = config.backend
    if backend.type != "azurerm":
        return
    checks = {
        "resource_group_name": RESOURCE_GROUP_NAME,
        "storage_account_name": STORAGE_ACCOUNT_NAME,
        "container_name": CONTAINER_NAME,
        "key_vault_name": KEY_VAULT_NAME,
    }
    for name, check in checks.items():
        value = getattr(backend, name)
        if not value:
            raise ConfigError(source, f"backend.{name}", "missing value for the azurerm backend", f"set backend.{name}")
        if (verdict := check(value)) is not None:
            raise ConfigError(source, f"backend.{name}", *verdict)


def _validate_runners(config: EnvironmentConfig, source: str, _expected_name: str) -> None:
    if config.runners.resource_group in (config.names.resource_group, config.backend.resource_group_name):
        raise ConfigError(
            source,
            "runners.resource_group",
            f"{config.runners.resource_group!r} is also the platform or state resource group",
            "give the runner identities their own resource group (infra-apply must not manage them)",
        )
    # The pipelines run only azurerm-backed environments; their identities need the vault.
    if config.backend.type == "azurerm" and not config.runners.automation_key_vault_id:
        raise ConfigError(
            source,
            "runners.automation_key_vault_id",
            "missing for an azurerm backend (the secrets-reader identity reads the automation secrets there)",
            "set it to the resource ID of the automation Key Vault",
        )
    _validate_state_reach(config, source)


def _validate_state_reach(config: EnvironmentConfig, source: str) -> None:
    """The state account is private: its endpoint sits in a subnet of the runner VNet."""
    if config.backend.type != "azurerm":
        return
    runners = config.runners
    for key in ("virtual_network_id", "private_endpoint_subnet_id"):
        if not getattr(runners, key):
            raise ConfigError(
                source,
                f"runners.{key}",
                "missing for an azurerm backend (the state account is reached only from the runner VNet)",
                f"set runners.{key}",
            )
    if not runners.private_endpoint_subnet_id.lower().startswith(f"{runners.virtual_network_id.lower()}/subnets/"):
        raise ConfigError(
            source,
            "runners.private_endpoint_subnet_id",
            "is not a subnet of runners.virtual_network_id",
            f"use a subnet of {runners.virtual_network_id}",
        )


def _validate_contract(config: EnvironmentConfig, source: str, _expected_name: str) -> None:
    contract = config.data_contract
    declared = {name.lower() for name in contract.columns}
    for key, names in (
        ("not_null", contract.not_null),
        ("allowed_values", contract.allowed_values),
        ("ranges", contract.ranges),
    ):
        for name in names:
            if name.lower() not in declared:
                raise ConfigError(
                    source, f"data_contract.{key}", f"column {name!r} is not in data_contract.columns", "add it there"
                )
    for name in contract.ranges:
        if contract.columns[_declared(contract, name)] not in ("integer", "number"):
            raise ConfigError(
                source, "data_contract.ranges", f"column {name!r} is not numeric", "give ranges to number columns only"
            )


def _declared(contract: DataContractSection, name: str) -> str:
    return next(column for column in contract.columns if column.lower() == name.lower())


def parse_environment_config(data: Mapping[str, Any], *, source: str, expected_name: str) -> EnvironmentConfig:
    """Validate a parsed TOML document; raise ConfigError naming every problem (one line each)."""
    errors: list[ConfigError] = []
    config: EnvironmentConfig | None = _build(EnvironmentConfig, data, source, "", errors)
    raise_all(errors)
    assert config is not None  # no errors means it was built
    for validate in (
        _validate_name,
        _validate_network,
        _validate_unique_names,
        _validate_managed_network,
        _validate_backend,
        _validate_runners,
        _validate_contract,
        _validate_geo_replication,
    ):
        try:
            validate(config, source, expected_name)
        except ConfigError as error:
            errors.append(error)
    raise_all(errors)
    return config


def _validate_name(config: EnvironmentConfig, source: str, expected_name: str) -> None:
    if config.environment.name != expected_name:
        raise ConfigError(
            source,
            "environment.name",
            f"{config.environment.name!r} does not match the file name {expected_name!r}",
            f"set name = {expected_name!r} or rename the file",
        )


def _validate_managed_network(config: EnvironmentConfig, source: str, _expected_name: str) -> None:
    if config.workspace.managed_network == "Disabled":
        # The image build cluster has no public IP and no subnet of ours: it lives in the managed
        # network (how-to-managed-network.md, "Configure image builds", "Limitations").
        raise ConfigError(
            source,
            "workspace.managed_network",
            "'Disabled' leaves the image build cluster without a network (no public IP, no subnet)",
            "use 'AllowOnlyApprovedOutbound' (or 'AllowInternetOutbound')",
        )


def _validate_geo_replication(config: EnvironmentConfig, source: str, _expected_name: str) -> None:
    if config.environment.location in config.registry.geo_replication_locations:
        raise ConfigError(
            source,
            "registry.geo_replication_locations",
            f"lists the home region {config.environment.location!r}",
            "list only additional regions",
        )


def validate_environments(configs: Sequence[EnvironmentConfig], *, sources: Sequence[str]) -> None:
    """Rules across the environments deployed together: no runner VNet serves two of them.

    Each environment links its private DNS zones (privatelink.blob.core.windows.net, ...) to its
    runner VNet, and Azure refuses a second zone of the same name on one VNet ("A virtual network
    cannot be linked to multiple zones with overlapping namespaces"; Private Link FAQ, "Can we link
    multiple private DNS zones with the same name?": https://learn.microsoft.com/azure/private-link/private-link-faq).
    """
    seen: dict[str, str] = {}
    for config, source in zip(configs, sources, strict=True):
        vnet = config.runners.virtual_network_id
        if vnet and vnet.lower() in seen:
            raise ConfigError(
                source,
                "runners.virtual_network_id",
                f"is also the runner VNet of environment {seen[vnet.lower()]!r}",
                "give each environment its own runner VNet, or leave it empty where no pipeline runs",
            )
        seen[vnet.lower()] = config.name


def parse_environment_toml(text: str, *, source: str, expected_name: str) -> EnvironmentConfig:
    """Parse TOML text (read by the caller) into a validated config."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "(syntax)", f"not valid TOML ({error})", "fix the syntax at that line") from None
    return parse_environment_config(data, source=source, expected_name=expected_name)


def describe_keys(cls: type[Any] = EnvironmentConfig, prefix: str = "") -> list[tuple[str, str]]:
    """Every config key with its documentation, for the README and error hints."""
    rows: list[tuple[str, str]] = []
    hints = typing.get_type_hints(cls)
    for spec in dataclasses.fields(cls):
        annotation = hints[spec.name]
        if dataclasses.is_dataclass(annotation):
            rows += describe_keys(typing.cast(type, annotation), f"{prefix}{spec.name}.")
        else:
            rows.append((prefix + spec.name, str(spec.metadata.get("doc", ""))))
    return rows
