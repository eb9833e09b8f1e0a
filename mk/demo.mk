# Local rehearsal of the data path and the import benchmark (docs/local_rehearsal.md).
ROWS ?= 100000

.PHONY: demo bench-import

demo: $(PY_ENV) $(PY_BYTECODE) $(NPM_TOOLS) ## local rehearsal: fakesnow + Azurite + local asset catalog, import and verify (ROWS=100000)
	$(PY) -m data_bootstrap.demo --rows $(ROWS)

bench-import: $(PY_ENV) $(PY_BYTECODE) $(NPM_TOOLS) ## import benchmark: 100k and 1M rows through fakesnow + Azurite (median of 3) vs a plain pyarrow write
	$(PY) -m benchmarks.import_bench
