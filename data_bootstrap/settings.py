"""Read the deployed stack's outputs and the environment config into one frozen settings object."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
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


def load_outputs(path: Path, *, env: str) -> StackOutputs:
    source = str(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
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
        if not isinstance(value, str) or not value:
            raise BootstrapError(
                f"{source}: output {spec.name!r} is missing or empty",
                "deploy the current mlplatform stack (it declares that output) and rewrite the outputs file",
            )
        values[spec.name] = value
    return StackOutputs(**values)


def load_config(path: Path, *, env: str) -> EnvironmentConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BootstrapError(
            f"config file {path} not found", f"create config/{env}.toml or pass --config FILE"
        ) from None
    try:
        return parse_environment_toml(text, source=str(path), expected_name=env)
    except ConfigError as error:
        raise BootstrapError(f"{error.source}: {error.key}: {error.problem}", error.fix) from None


def load_settings(*, env: str, outputs_path: Path, config_path: Path) -> Settings:
    return Settings(env=env, config=load_config(config_path, env=env), outputs=load_outputs(outputs_path, env=env))
