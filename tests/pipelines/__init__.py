"""Tests of the Argo pipelines: rendering, offline validation, design rules, runner image."""
