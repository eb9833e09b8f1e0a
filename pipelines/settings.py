"""Render-time settings of the pipelines: ``pipelines/settings.toml`` plus the environment configs.

The environments a pipeline may target are the ``config/<env>.toml`` files whose Terraform
backend is ``azurerm``: a pod's local state would vanish with the pod.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.config import ConfigError, EnvironmentConfig, parse_environment_toml, validate_environments
from stacks.naming import CLUSTER_JOBS

REPO_ROOT = Path(__file__).resolve().parents[1]
SETTINGS_FILE = REPO_ROOT / "pipelines" / "settings.toml"
CONFIG_DIR = REPO_ROOT / "config"

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HTTPS_GIT = re.compile(r"https://[A-Za-z0-9.-]+/[\w.-]+/[\w.-]+\.git")
_BRANCH = re.compile(r"[A-Za-z0-9._/-]+")
_CRON = re.compile(r"(\S+\s+){4}\S+")
_PATH_PREFIX = re.compile(r"[A-Za-z0-9._/-]+")
_HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]+)?")
_TAGGED_IMAGE = re.compile(r"[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+:[\w][\w.-]{0,127}")
# GitHub caps webhook payloads at 25 MB: https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap
_GITHUB_MAX_PAYLOAD = 25 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Environment:
    name: str
    subscription_id: str
    config: EnvironmentConfig
    client_ids: dict[str, str]  # job (stacks.naming.CLUSTER_JOBS) -> client id of its managed identity

    @property
    def state_account(self) -> str:
        """The backend storage account, which also holds the Argo artifact container."""
        return self.config.backend.storage_account_name

    @property
    def artifact_container(self) -> str:
        return self.config.runners.artifact_container


@dataclass(frozen=True, kw_only=True)
class Settings:
    namespace: str
    controller_namespace: str
    repository: str
    branch: str
    runner_image: str
    tenant_id: str
    automation_key_vault: str
    submitters_group: str
    approvers_group: str
    environments: tuple[Environment, ...]
    push_environment: str
    infra_paths: tuple[str, ...]
    data_environment: str
    data_schedule: str
    data_timezone: str
    webhook_url: str
    webhook_max_payload_bytes: int

    def environment(self, name: str) -> Environment:
        return next(env for env in self.environments if env.name == name)

    @property
    def repository_owner_and_name(self) -> tuple[str, str]:
        owner, name = self.repository.removesuffix(".git").split("/")[-2:]
        return owner, name

    @property
    def automation_vault_url(self) -> str:
        return f"https://{self.automation_key_vault}.vault.azure.net/"


class _Reader:
    """Typed access to the TOML tables with one-line errors naming the key."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data, self.source = data, source

    def get(self, table: str, key: str, pattern: re.Pattern[str] | None = None, *, example: str) -> str:
        value = self.data.get(table, {}).get(key)
        where = f"{table}.{key}"
        if not isinstance(value, str):
            raise ConfigError(self.source, where, "missing or not a string", f"set {key} = {example!r} under [{table}]")
        if pattern is not None and value and not pattern.fullmatch(value):
            raise ConfigError(self.source, where, f"{value!r} is malformed", f"use a value like {example!r}")
        return value

    def table(self, table: str) -> dict[str, Any]:
        value = self.data.get(table, {})
        if not isinstance(value, dict):
            raise ConfigError(self.source, table, "must be a table", f"write it as [{table}]")
        return value


def load_environments(config_dir: Path) -> dict[str, EnvironmentConfig]:
    """Every ``<env>.toml`` in ``config_dir``, parsed and validated, each on its own and across
    environments (the checks main.py runs before synth: no runner VNet serves two environments)."""
    paths = sorted(config_dir.glob("*.toml"))
    configs = {
        path.stem: parse_environment_toml(path.read_text(encoding="utf-8"), source=str(path), expected_name=path.stem)
        for path in paths
    }
    validate_environments(list(configs.values()), sources=[str(path) for path in paths])
    return configs


def _namespace(configs: dict[str, EnvironmentConfig], names: list[str]) -> str:
    """The one namespace every pipeline environment's ``[runners].namespace`` names."""
    namespaces = {name: configs[name].runners.namespace for name in names}
    if len(set(namespaces.values())) != 1:
        found = ", ".join(f"{name}: {value}" for name, value in namespaces.items())
        raise ConfigError(
            "config/*.toml", "runners.namespace", f"pipeline environments disagree ({found})", "use one namespace"
        )
    return next(iter(namespaces.values()))


def _client_ids(read: _Reader, name: str) -> dict[str, str]:
    """``[identities.<env>]``: exactly one client id per in-cluster job (stacks.naming.CLUSTER_JOBS)."""
    table = read.table("identities").get(name)
    where = f"identities.{name}"
    if not isinstance(table, dict):
        raise ConfigError(read.source, where, "missing", f"add [{where}] with keys {', '.join(CLUSTER_JOBS)}")
    unknown = sorted(set(table) - set(CLUSTER_JOBS))
    if unknown:
        raise ConfigError(read.source, where, f"unknown key(s) {unknown}", f"use exactly {', '.join(CLUSTER_JOBS)}")
    for job in CLUSTER_JOBS:
        value = table.get(job)
        if not isinstance(value, str) or not _GUID.fullmatch(value):
            raise ConfigError(
                read.source, f"{where}.{job}", "missing or not a GUID", f'set "{job}" = "<client id GUID>"'
            )
    return {job: table[job] for job in CLUSTER_JOBS}


def _environments(read: _Reader, configs: dict[str, EnvironmentConfig]) -> list[Environment]:
    subscriptions = read.table("subscriptions")
    environments = []
    for name, config in configs.items():
        if config.backend.type != "azurerm":
            continue
        subscription = subscriptions.get(name)
        if not isinstance(subscription, str) or not _GUID.fullmatch(subscription):
            raise ConfigError(
                read.source, f"subscriptions.{name}", "missing or not a GUID", f'set {name} = "<subscription id>"'
            )
        environments.append(
            Environment(name=name, subscription_id=subscription, config=config, client_ids=_client_ids(read, name))
        )
    if not environments:
        raise ConfigError(read.source, "subscriptions", "no config/<env>.toml uses the azurerm backend", "add one")
    stray = sorted(set(read.table("identities")) - {env.name for env in environments})
    if stray:
        raise ConfigError(
            read.source, f"identities.{stray[0]}", "is no azurerm-backed environment", "remove it or fix the name"
        )
    return environments


def _automation_vault(environments: list[Environment], push_environment: str) -> str:
    """The vault the access stack grants secrets-reader on: ``[runners].automation_key_vault_id`` of
    the environment the cluster serves (named once, in config; required there for every azurerm
    backend by stacks/config.py ``_validate_runners``)."""
    (env,) = [env for env in environments if env.name == push_environment]
    return env.config.runners.automation_key_vault_id.rstrip("/").rsplit("/", 1)[-1]


def _parse(data: dict[str, Any], source: str, configs: dict[str, EnvironmentConfig]) -> Settings:
    read = _Reader(data, source)
    environments = _environments(read, configs)
    names = [env.name for env in environments]
    for key in ("push_environment", "data_environment"):
        chosen = read.get("triggers", key, example=names[0])
        if chosen not in names:
            raise ConfigError(
                source, f"triggers.{key}", f"{chosen!r} is no azurerm-backed environment", f"use one of {names}"
            )
    paths = read.table("triggers").get("infra_paths")
    if (
        not isinstance(paths, list)
        or not paths
        or not all(isinstance(p, str) and _PATH_PREFIX.fullmatch(p) for p in paths)
    ):
        raise ConfigError(
            source,
            "triggers.infra_paths",
            "must be a non-empty list of path prefixes",
            'use letters, digits, ".", "_", "-", "/" like ["stacks/"]',
        )
    payload = read.table("triggers").get("webhook_max_payload_bytes")
    if isinstance(payload, bool) or not isinstance(payload, int) or not 1 <= payload <= _GITHUB_MAX_PAYLOAD:
        raise ConfigError(
            source,
            "triggers.webhook_max_payload_bytes",
            "missing or out of range",
            f"set an integer from 1 to {_GITHUB_MAX_PAYLOAD} (GitHub's cap, 25 MiB)",
        )
    image = read.get("cluster", "runner_image", _TAGGED_IMAGE, example="ghcr.io/org/runner:1.0.0")
    # Every step runs this exact image: no digest, no render (a tag can be moved to other content).
    digest = read.get("cluster", "runner_image_digest", _DIGEST, example="sha256:<64 hex digits>")
    if not digest:
        raise ConfigError(
            source,
            "cluster.runner_image_digest",
            "is empty",
            "set the pushed image's digest (`docker buildx imagetools inspect <image>`)",
        )
    return Settings(
        namespace=_namespace(configs, names),
        controller_namespace=read.get("cluster", "controller_namespace", _DNS_LABEL, example="argo"),
        repository=read.get("cluster", "repository", _HTTPS_GIT, example="https://github.com/org/repo.git"),
        branch=read.get("cluster", "branch", _BRANCH, example="main"),
        runner_image=f"{image}@{digest}",
        tenant_id=read.get("azure", "tenant_id", _GUID, example="<tenant GUID>"),
        automation_key_vault=_automation_vault(
            environments, read.get("triggers", "push_environment", example=names[0])
        ),
        submitters_group=read.get("access", "submitters_group", _GUID, example="<Entra group object id>"),
        approvers_group=read.get("access", "approvers_group", _GUID, example="<Entra group object id>"),
        environments=tuple(environments),
        push_environment=read.get("triggers", "push_environment", example=names[0]),
        infra_paths=tuple(paths),
        data_environment=read.get("triggers", "data_environment", example=names[0]),
        data_schedule=read.get("triggers", "data_schedule", _CRON, example="0 4 * * 1"),
        data_timezone=read.get("triggers", "data_timezone", example="Europe/Amsterdam"),
        webhook_url=read.get("triggers", "webhook_url", _HTTPS_URL, example="https://hooks.example.com"),
        webhook_max_payload_bytes=payload,
    )


def load_settings(settings_file: Path = SETTINGS_FILE, config_dir: Path = CONFIG_DIR) -> Settings:
    """Read and validate the settings; raise ConfigError (one line) on the first mistake."""
    source = str(settings_file)
    try:
        data = tomllib.loads(settings_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "(syntax)", f"not valid TOML ({error})", "fix the syntax at that line") from None
    return _parse(data, source, load_environments(config_dir))
