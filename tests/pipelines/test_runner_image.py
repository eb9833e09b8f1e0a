"""The runner image's Dockerfile: hadolint-clean, pinned, non-root, checksummed. (Not built here.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pipelines.settings import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"
TEXT = DOCKERFILE.read_text(encoding="utf-8")


def test_hadolint_passes() -> None:
    result = subprocess.run([str(HADOLINT), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_an_unpinned_base(tmp_path: Path) -> None:
    """Proves the lint is live: the same file with a floating base fails."""
    broken = tmp_path / "Dockerfile"
    broken.write_text(TEXT.replace("FROM ${NODE_IMAGE} AS node", "FROM node AS node"), encoding="utf-8")
    result = subprocess.run([str(HADOLINT), "--no-color", str(broken)], capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "DL3006" in result.stdout


def test_base_images_are_pinned_versions() -> None:
    images = dict(re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", TEXT, re.MULTILINE))
    assert set(images) == {"PYTHON_IMAGE", "NODE_IMAGE"}
    for image in images.values():
        assert re.fullmatch(r"[a-z]+:\d+\.\d+\.\d+-[a-z-]+(@sha256:[0-9a-f]{64})?", image), image
    assert images["PYTHON_IMAGE"].startswith("python:3.11."), "the lock is for Python 3.11"


def test_runs_as_a_non_root_user() -> None:
    users = re.findall(r"^USER (\S+)$", TEXT, re.MULTILINE)
    assert users == ["10001:10001"]
    assert TEXT.rstrip().splitlines()[-2] == "USER 10001:10001"


def test_terraform_and_python_packages_are_verified() -> None:
    assert re.search(r"^ARG TERRAFORM_SHA256=[0-9a-f]{64}$", TEXT, re.MULTILINE)
    assert "sha256sum --check --strict" in TEXT
    assert "pip install --no-cache-dir --require-hashes --no-deps -r requirements.txt" in TEXT
    assert "pipenv requirements --hash" in TEXT


def test_build_context_is_only_the_lock() -> None:
    lines = [
        line
        for line in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line and line[0] != "#"
    ]
    assert lines == ["*", "!Pipfile", "!Pipfile.lock"]
    assert re.findall(r"^COPY (?!--from)(.*)$", TEXT, re.MULTILINE) == ["Pipfile Pipfile.lock ./"]
