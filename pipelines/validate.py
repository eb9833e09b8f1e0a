"""Validate rendered manifests offline: strict schemas, then reference and hygiene checks.

Usage: python -m pipelines.validate [PATH ...]   (default: pipelines/argo)

Custom resources are checked against the vendored official schemas made strict
(``pipelines.schemas``); core kinds with ``kubernetes-validate --strict``. Prints one line per
problem ("file: Kind/name: where: what; fix") and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import kubernetes_validate

from pipelines import bundle_checks, cluster_checks, policy_checks
from pipelines.bundle import Bundle, Document, load
from pipelines.schemas import SchemaMissingError, schema_errors

DEFAULT_PATH = Path(__file__).resolve().parent / "argo"
# Oldest Kubernetes minor the pipelines target (AKS supported versions); bundled with kubernetes-validate.
KUBERNETES_VERSION = "1.33.0"
CORE_KINDS = {("v1", "ServiceAccount"), ("v1", "ConfigMap"), ("v1", "Secret")} | {
    ("rbac.authorization.k8s.io/v1", kind) for kind in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
}


def _core_errors(doc: Document) -> Iterator[str]:
    try:
        kubernetes_validate.validate(doc.body, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        yield f"{error.json_path}: {error.message}"


def document_problems(doc: Document, bundle: Bundle) -> Iterator[str]:
    if (doc.body.get("apiVersion"), doc.kind) in CORE_KINDS:
        yield from _core_errors(doc)
    else:
        yield from schema_errors(doc.body)
    yield from bundle_checks.kind_checks(doc, bundle)
    yield from bundle_checks.references(doc, bundle)
    yield from bundle_checks.secret_literals(doc)
    yield from cluster_checks.cluster_policy(doc, bundle)
    yield from _workflow_policy(doc, bundle)


def _workflow_policy(doc: Document, bundle: Bundle) -> Iterator[str]:
    spec = doc.body.get("spec") or {}
    if doc.kind in ("WorkflowTemplate", "ClusterWorkflowTemplate", "Workflow"):
        yield from policy_checks.spec_policy(spec, bundle, reusable=doc.kind != "Workflow")
    elif doc.kind == "CronWorkflow":
        yield from policy_checks.spec_policy(spec.get("workflowSpec") or {}, bundle, reusable=False)


def validate(paths: list[Path]) -> list[str]:
    """Every problem in the manifests under ``paths``, one line each (empty: all good)."""
    bundle, problems = load(paths)
    seen = set()
    for doc in bundle.documents:
        key = (doc.kind, doc.name)
        if key in seen and doc.kind != "Workflow":
            problems.append(f"{doc.label}: defined twice; fix: give each object its own name")
        seen.add(key)
        problems += [f"{doc.label}: {problem}" for problem in document_problems(doc, bundle)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.validate", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[DEFAULT_PATH], help="manifest files or folders")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        print(
            f"error: {', '.join(missing)}: no such file or folder; fix: run `make argo` or pass the right path",
            file=sys.stderr,
        )
        return 2
    try:
        problems = validate(args.paths)
    except SchemaMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"ok: {', '.join(map(str, args.paths))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
