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

from stacks.config import ConfigError, EnvironmentConfig, parse_environment_toml

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


@dataclass(frozen=True, kw_only=True)
class Environment:
    name: str
    subscription_id: str
    config: EnvironmentConfig


@dataclass(frozen=True, kw_only=True)
class Settings:
    namespace: str
    repository: str
    branch: str
    runner_image: str
    tenant_id: str
    automation_key_vault: str
    infra_client_id: str
    data_client_id: str
    secrets_client_id: str
    environments: tuple[Environment, ...]
    push_environment: str
    infra_paths: tuple[str, ...]
    data_environment: str
    data_schedule: str
    data_timezone: str
    webhook_url: str

    @property
    def environment_names(self) -> list[str]:
        return [env.name for env in self.environments]

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
    """Every ``<env>.toml`` in ``config_dir``, parsed and validated."""
    configs = {}
    for path in sorted(config_dir.glob("*.toml")):
        configs[path.stem] = parse_environment_toml(
            path.read_text(encoding="utf-8"), source=str(path), expected_name=path.stem
        )
    return configs


def _parse(data: dict[str, Any], source: str, configs: dict[str, EnvironmentConfig]) -> Settings:
    read = _Reader(data, source)
    subscriptions = read.table("subscriptions")
    environments = []
    for name, config in configs.items():
        if config.backend.type != "azurerm":
            continue
        subscription = subscriptions.get(name)
        if not isinstance(subscription, str) or not _GUID.fullmatch(subscription):
            raise ConfigError(
                source, f"subscriptions.{name}", "missing or not a GUID", f'set {name} = "<subscription id>"'
            )
        environments.append(Environment(name=name, subscription_id=subscription, config=config))
    if not environments:
        raise ConfigError(source, "subscriptions", "no config/<env>.toml uses the azurerm backend", "add one")
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
    image = read.get("cluster", "runner_image", example="ghcr.io/org/runner:1.0.0")
    digest = read.get("cluster", "runner_image_digest", _DIGEST, example="sha256:<64 hex digits>")
    return Settings(
        namespace=read.get("cluster", "namespace", _DNS_LABEL, example="ml-pipelines"),
        repository=read.get("cluster", "repository", _HTTPS_GIT, example="https://github.com/org/repo.git"),
        branch=read.get("cluster", "branch", _BRANCH, example="main"),
        runner_image=f"{image}@{digest}" if digest else image,
        tenant_id=read.get("azure", "tenant_id", _GUID, example="<tenant GUID>"),
        automation_key_vault=read.get("azure", "automation_key_vault", example="kv-org-automation"),
        infra_client_id=read.get("identities", "infra_pipeline", _GUID, example="<client GUID>"),
        data_client_id=read.get("identities", "data_pipeline", _GUID, example="<client GUID>"),
        secrets_client_id=read.get("identities", "secrets_reader", _GUID, example="<client GUID>"),
        environments=tuple(environments),
        push_environment=read.get("triggers", "push_environment", example=names[0]),
        infra_paths=tuple(paths),
        data_environment=read.get("triggers", "data_environment", example=names[0]),
        data_schedule=read.get("triggers", "data_schedule", _CRON, example="0 4 * * 1"),
        data_timezone=read.get("triggers", "data_timezone", example="Europe/Amsterdam"),
        webhook_url=read.get("triggers", "webhook_url", _HTTPS_URL, example="https://hooks.example.com"),
    )


def load_settings(settings_file: Path = SETTINGS_FILE, config_dir: Path = CONFIG_DIR) -> Settings:
    """Read and validate the settings; raise ConfigError (one line) on the first mistake."""
    source = str(settings_file)
    try:
        data = tomllib.loads(settings_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "(syntax)", f"not valid TOML ({error})", "fix the syntax at that line") from None
    return _parse(data, source, load_environments(config_dir))
