# Argo pipelines (docs/pipelines.md): manifests rendered from pipelines/*.py into pipelines/argo/.
.PHONY: argo argo-check

argo: $(PY_ENV) ## render the Argo manifests into pipelines/argo/ and validate them offline
	$(PY) -m pipelines.argo_render
	$(PY) -m pipelines.validate pipelines/argo

argo-check: $(PY_ENV) ## fail if pipelines/argo/ differs from a fresh render or does not validate
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PY) -m pipelines.argo_render --out "$$tmp" >/dev/null && \
	if ! diff -ru pipelines/argo "$$tmp"; then echo "pipelines/argo/ is stale: run 'make argo' and commit the result" >&2; exit 1; fi
	$(PY) -m pipelines.validate pipelines/argo
