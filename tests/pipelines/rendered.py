"""The bundle as the code renders it now (not the committed files): design tests check the code,
and test_pipeline_render.py checks the committed files equal this render."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from pipelines.argo_render import render
from pipelines.settings import load_settings


@cache
def rendered_files() -> dict[str, str]:
    return render(load_settings())


def rendered_documents(name: str | None = None) -> list[dict[str, Any]]:
    """Every document of the fresh render, or of its file ``name`` only."""
    return [
        doc
        for file_name, text in sorted(rendered_files().items())
        if name is None or file_name == name
        for doc in yaml.safe_load_all(text)
    ]
