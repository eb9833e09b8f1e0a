"""Argo Workflows pipelines: manifests generated from Python, validated offline (docs/pipelines.md)."""
