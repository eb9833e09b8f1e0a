# Local rehearsal of the data path and the import benchmark (docs/local_rehearsal.md).
ROWS ?= 100000
# import engine, stream or unload; unset: demo runs stream, bench-import compares both
ENGINE ?=

.PHONY: demo bench-import bench-import-stages
_comma := ,

demo: $(PY_ENV) $(PY_BYTECODE) $(NPM_TOOLS) ## local rehearsal: fakesnow + Azurite + local asset catalog, import and verify (ROWS=100000, ENGINE=stream|unload)
	$(PY) -m data_bootstrap.rehearsal.demo --rows $(ROWS) --engine $(or $(ENGINE),stream)

bench-import: $(PY_ENV) $(PY_BYTECODE) $(NPM_TOOLS) ## import engines compared on 1M rows through fakesnow + Azurite (median of 3 each, ratio; ENGINE=stream|unload for one)
	$(PY) -m benchmarks.import_bench --compare $(or $(ENGINE),stream$(_comma)unload)

bench-import-stages: $(PY_ENV) $(PY_BYTECODE) $(NPM_TOOLS) ## stream engine stages: 100k and 1M rows (median of 3) vs a plain pyarrow write
	$(PY) -m benchmarks.import_bench
