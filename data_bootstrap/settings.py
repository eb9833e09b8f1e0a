"""Read the deployed stack's outputs and the environment config into one frozen settings object."""

from __future__ import annotations

import json
import re
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from data_bootstrap.errors import BootstrapError
from stacks.config import ConfigError, EnvironmentConfig, parse_environment_toml
from stacks.naming import ML_PLATFORM, stack_name

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, kw_only=True)
class StackOutputs:
    """The non-secret outputs of the ``mlplatform-<env>`` stack that the bootstrap needs."""

    subscription_id: str
    resource_group_name: str
    workspace_name: str
    storage_account_name: str
    raw_container_name: str
    key_vault_uri: str
    tenant_id: str = ""  # the storage account's tenant: AZURE_TENANT_ID of the unload engine's storage integration

    @property
    def blob_account_url(self) -> str:
        return f"https://{self.storage_account_name}.blob.core.windows.net"


@dataclass(frozen=True, kw_only=True)
class Settings:
    env: str
    config: EnvironmentConfig
    outputs: StackOutputs


def _flatten(document: Any, env: str, source: str) -> dict[str, Any]:
    """Accept both ``cdktf deploy --outputs-file`` and ``terraform output -json`` shapes."""
    if not isinstance(document, dict):
        raise BootstrapError(f"{source}: not a JSON object", "pass the file `cdktf deploy --outputs-file` wrote")
    stack = stack_name(ML_PLATFORM, env)
    prefix = stack_name(ML_PLATFORM, "")
    if stack in document and isinstance(document[stack], dict):
        document = document[stack]
    elif any(key.startswith(prefix) for key in document):
        found = ", ".join(sorted(key for key in document if key.startswith(prefix)))
        raise BootstrapError(
            f"{source}: no outputs for stack {stack!r} (found {found})", f"deploy {stack} or pass --env to match"
        )
    return {
        key: value["value"] if isinstance(value, dict) and "value" in value else value
        for key, value in document.items()
    }


def _read_text(path: Path, *, what: str, fix: str) -> str:
    """The file's text; a directory, an unreadable file or bytes that are not UTF-8 become one line."""
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise BootstrapError(f"{what} {path} is a directory, not a file", fix) from None
    except PermissionError:
        raise BootstrapError(
            f"{what} {path} is not readable (permission denied)", "fix its permissions or pass another file"
        ) from None
    except UnicodeDecodeError as error:
        raise BootstrapError(f"{what} {path} is not UTF-8 text (byte {error.start})", fix) from None
    except FileNotFoundError:
        raise
    except OSError as error:
        raise BootstrapError(f"{what} {path} cannot be read ({error.strerror})", fix) from None


def load_outputs(path: Path, *, env: str) -> StackOutputs:
    source = str(path)
    try:
        document = json.loads(
            _read_text(
                path,
                what="outputs file",
                fix="pass the JSON file `cdktf deploy --outputs-file` or `terraform output -json` wrote",
            )
        )
    except FileNotFoundError:
        raise BootstrapError(
            f"outputs file {source} not found",
            "run `cdktf deploy network-<env> mlplatform-<env> --outputs-file outputs.json` or "
            "`terraform -chdir=cdktf.out/stacks/mlplatform-<env> output -json > outputs.json`",
        ) from None
    except json.JSONDecodeError as error:
        raise BootstrapError(f"{source}: not valid JSON ({error})", "regenerate the outputs file") from None
    flat = _flatten(document, env, source)
    values: dict[str, str] = {}
    for spec in fields(StackOutputs):
        value = flat.get(spec.name)
        if value is None and spec.default is not MISSING:  # optional: older stacks did not output it
            continue
        if not isinstance(value, str) or not value:
            raise BootstrapError(
                f"{source}: output {spec.name!r} is missing or empty",
                "deploy the current mlplatform stack (it declares that output) and rewrite the outputs file",
            )
        values[spec.name] = value
    return StackOutputs(**values)


def load_config(path: Path, *, env: str) -> EnvironmentConfig:
    try:
        text = _read_text(path, what="config file", fix=f"pass the TOML file config/{env}.toml with --config")
    except FileNotFoundError:
        raise BootstrapError(
            f"config file {path} not found", f"create config/{env}.toml or pass --config FILE"
        ) from None
    try:
        return parse_environment_toml(text, source=str(path), expected_name=env)
    except ConfigError as error:
        raise BootstrapError(f"{error.source}: {error.key}: {error.problem}", error.fix) from None


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def outputs_problem(outputs: StackOutputs, config: EnvironmentConfig) -> tuple[str, str] | None:
    """(output, what is wrong) if the outputs do not describe the environment the config names: each
    value must be well formed and be the workspace, storage, container and vault of that environment."""
    names = config.names
    expected = {
        "resource_group_name": names.resource_group,
        "workspace_name": names.workspace,
        "storage_account_name": names.globally_unique(names.storage_account),
        "raw_container_name": config.storage.raw_container,
    }
    if not _GUID.fullmatch(outputs.subscription_id):
        return ("subscription_id", f"{outputs.subscription_id!r} is not a subscription ID (a GUID)")
    for key, name in expected.items():
        if getattr(outputs, key) != name:
            return (key, f"is {getattr(outputs, key)!r}, but environment {config.name!r} names it {name!r}")
    # vault URIs are https://<name>.vault.azure.net/ (or a sovereign cloud's vault domain)
    vault = re.fullmatch(
        r"https://([a-z0-9-]+)\.vault\.(azure\.net|azure\.cn|usgovcloudapi\.net)/?", outputs.key_vault_uri
    )
    if vault is None:
        return (
            "key_vault_uri",
            f"{outputs.key_vault_uri[:80]!r} is not a Key Vault URI (https://<name>.vault.azure.net/)",
        )
    key_vault = names.globally_unique(names.key_vault)
    if vault[1] != key_vault.lower():
        return (
            "key_vault_uri",
            f"points at vault {vault[1]!r}, but environment {config.name!r} names it {key_vault!r}",
        )
    return None


def load_settings(*, env: str, outputs_path: Path, config_path: Path) -> Settings:
    config = load_config(config_path, env=env)
    outputs = load_outputs(outputs_path, env=env)
    if (problem := outputs_problem(outputs, config)) is not None:
        key, what = problem
        raise BootstrapError(
            f"{outputs_path}: output {key!r} {what}",
            f"pass the outputs of stack {stack_name(ML_PLATFORM, env)} (--outputs), or the --env they belong to",
        )
    return Settings(env=env, config=config, outputs=outputs)
