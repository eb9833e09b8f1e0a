"""Loading a folder of manifests into one bundle, with the mistakes YAML itself hides.

An unquoted ``{{...}}`` value is a YAML flow mapping, not a string: it either fails to parse or
silently becomes a dict. Such lines are reported with their line number before parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_UNQUOTED_TEMPLATE = re.compile(r"^\s*(?:-\s+|[\w.-]+:\s+|-\s+[\w.-]+:\s+)\{\{")


@dataclass(frozen=True, kw_only=True)
class Document:
    file: str
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", "?"))

    @property
    def name(self) -> str:
        metadata = self.body.get("metadata") or {}
        return str(metadata.get("name") or metadata.get("generateName") or "?")

    @property
    def label(self) -> str:
        return f"{self.file}: {self.kind}/{self.name}"


@dataclass(frozen=True, kw_only=True)
class Bundle:
    documents: list[Document]

    def named(self, kind: str) -> dict[str, Document]:
        return {doc.name: doc for doc in self.documents if doc.kind == kind}


def manifest_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
    return files


def load(paths: list[Path]) -> tuple[Bundle, list[str]]:
    """All documents of the given files/folders, and the problems that stopped a file loading."""
    documents, problems = [], []
    for path in manifest_files(paths):
        text = path.read_text(encoding="utf-8")
        unquoted = [
            f"{path.name}:{number}: unquoted '{{{{...}}}}' starts a YAML mapping, not a string; "
            "fix: quote the whole value, e.g. key: '{{workflow.parameters.x}}'"
            for number, line in enumerate(text.splitlines(), start=1)
            if _UNQUOTED_TEMPLATE.match(line)
        ]
        if unquoted:
            problems += unquoted
            continue
        try:
            bodies = [body for body in yaml.safe_load_all(text) if body is not None]
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"{path.name}:{mark.line + 1}" if mark is not None else path.name
            problems.append(f"{where}: not valid YAML ({getattr(error, 'problem', error)}); fix the syntax there")
            continue
        for body in bodies:
            if not isinstance(body, dict):
                problems.append(
                    f"{path.name}: a document is not a mapping; fix: each document must be a Kubernetes object"
                )
                continue
            documents.append(Document(file=path.name, body=body))
    if not documents and not problems:
        problems.append(f"{', '.join(map(str, paths))}: no manifests found; fix: point at the rendered folder")
    return Bundle(documents=documents), problems


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) below ``node``, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}"
            yield child, str(key), value
            yield from walk(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")
