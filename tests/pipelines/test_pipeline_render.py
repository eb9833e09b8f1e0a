"""The committed manifests are exactly what the generator renders, from the settings and configs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pipelines import argo_render
from pipelines.settings import CONFIG_DIR, SETTINGS_FILE, load_environments, load_settings
from stacks.config import ConfigError

DIGEST = "sha256:6a1f3c9e2b7d4f08a5c6e1d2b3f4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2"
SUBSCRIPTION = 'prod = "5e2a7c9d-1b3f-4d6e-8a0c-2e4f6a8b0d1f"'


def test_committed_manifests_equal_a_fresh_render() -> None:
    fresh = argo_render.render(load_settings())
    committed = {path.name: path.read_text(encoding="utf-8") for path in argo_render.OUT_DIR.glob("*.yaml")}
    assert sorted(committed) == sorted(fresh), "run `make argo`: files were added or removed"
    stale = [name for name in fresh if committed[name] != fresh[name]]
    assert not stale, f"run `make argo`: stale {stale}"


def test_render_is_byte_stable(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        assert argo_render.main(["--out", str(out)]) == 0
    assert {p.name: p.read_bytes() for p in first.iterdir()} == {p.name: p.read_bytes() for p in second.iterdir()}


def test_only_environments_with_remote_state_are_offered() -> None:
    """A pod's local Terraform state dies with the pod: local-backend environments are excluded."""
    remote = [name for name, config in load_environments(CONFIG_DIR).items() if config.backend.type == "azurerm"]
    assert "dev" not in remote, "config/dev.toml uses the local backend"
    for name in ("20-workflowtemplate-infra.yaml", "21-workflowtemplate-data.yaml"):
        templates = yaml.safe_load_all((argo_render.OUT_DIR / name).read_text(encoding="utf-8"))
        assert [t["metadata"]["name"].rpartition("-")[2] for t in templates] == remote, "one template per environment"


def _settings_copy(tmp_path: Path, old: str, new: str) -> Path:
    target = tmp_path / "settings.toml"
    text = SETTINGS_FILE.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('infra-plan = "8b1d7c52', 'infra-plan = "not-a-guid', "identities.prod.infra-plan"),
        ('infra-apply = "1f3a5c7e', 'infra_apply = "1f3a5c7e', "identities.prod"),
        ("[identities.prod]", "[identities.production]", "identities.prod"),
        (
            "[subscriptions]",
            '[identities.stage]\ninfra-plan = "8b1d7c52-0e4f-4a3b-9c6d-2f7e8a9b0c1d"\n\n[subscriptions]',
            "identities.stage",
        ),
        ('prod = "5e2a7c9d', 'stage = "5e2a7c9d', "subscriptions.prod"),
        ('push_environment = "prod"', 'push_environment = "dev"', "triggers.push_environment"),
        ('runner_image_digest = "sha256:6a1f', 'runner_image_digest = "sha256:abc', "cluster.runner_image_digest"),
        (f'runner_image_digest = "{DIGEST}"', 'runner_image_digest = ""', "cluster.runner_image_digest"),
        ("webhook_max_payload_bytes = 26214400", "webhook_max_payload_bytes = 0", "triggers.webhook_max_payload_bytes"),
        ('approvers_group = "e9c1', 'approvers_group = "everyone', "access.approvers_group"),
        ('"config/"', '"config/\\" end"', "triggers.infra_paths"),
    ],
)
def test_settings_mistakes_are_one_line_errors(tmp_path: Path, old: str, new: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_settings_copy(tmp_path, old, new), CONFIG_DIR)
    message = str(caught.value)
    assert key in message and "fix:" in message and "\n" not in message


def test_digest_is_appended_to_the_runner_image() -> None:
    assert load_settings().runner_image == f"ghcr.io/globorealty/ml-platform-runner:1.0.0@{DIGEST}"


def test_environments_must_share_one_namespace(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    stage = config_dir / "stage.toml"
    text = (config_dir / "prod.toml").read_text(encoding="utf-8")
    assert 'namespace = "ml-pipelines"' in text
    stage.write_text(
        text.replace('name = "prod"', 'name = "stage"')
        .replace('namespace = "ml-pipelines"', 'namespace = "other"')
        .replace("virtualNetworks/vnet-globorealty-aks", "virtualNetworks/vnet-globorealty-aks-stage"),
        encoding="utf-8",
    )
    settings = tmp_path / "settings.toml"
    settings.write_text(
        SETTINGS_FILE.read_text(encoding="utf-8").replace(
            SUBSCRIPTION, SUBSCRIPTION + "\n" + SUBSCRIPTION.replace("prod", "stage")
        )
        + "\n".join(["[identities.stage]", *(f'{job} = "{job_id}"' for job, job_id in _STAGE_IDS.items()), ""]),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(settings, config_dir)
    message = str(caught.value)
    assert "runners.namespace" in message and "prod: ml-pipelines, stage: other" in message and "\n" not in message


def test_environments_are_checked_across_each_other(tmp_path: Path) -> None:
    """Two environments naming one runner VNet: refused here as main.py refuses it (validate_environments)."""
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    text = (config_dir / "prod.toml").read_text(encoding="utf-8")
    (config_dir / "stage.toml").write_text(text.replace('name = "prod"', 'name = "stage"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_environments(config_dir)
    message = str(caught.value)
    assert "stage.toml" in message and "runners.virtual_network_id" in message
    assert "runner VNet of environment 'prod'" in message and "fix:" in message and "\n" not in message


_STAGE_IDS = {
    job: f"{index}0000000-0000-4000-8000-000000000000"
    for index, job in enumerate(("infra-plan", "infra-apply", "data-bootstrap", "secrets-reader"), start=1)
}


def test_render_cli_reports_a_config_mistake_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    prod = config_dir / "prod.toml"
    prod.write_text(prod.read_text(encoding="utf-8").replace('name = "prod"', 'name = "production"'), encoding="utf-8")
    out = tmp_path / "out"
    code = argo_render.main(["--out", str(out), "--config-dir", str(config_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "environment.name" in err and "Traceback" not in err
    assert not out.exists(), "nothing is written when the config is wrong"
