# Two entry points matter (README quickstart): `make synth` and `make test`.
# Both install what they need first: pipenv (in .tools/), the locked Python
# environment (.venv/, from Pipfile.lock) and the Node tools (node_modules/).
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV ?= dev
PY := .venv/bin/python
PIPENV := .tools/pipenv/bin/pipenv
PIPENV_VERSION := 2026.10.3
# checkov cannot share Pipfile.lock (it pins boto3 versions snowflake-connector-python
# rejects), so it gets its own pinned virtual environment.
CHECKOV := .tools/checkov/bin/checkov
CHECKOV_VERSION := 3.3.30

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_VERBOSITY := -1
# jsii warns loudly on Node 20 (end of life); the warning is noise for synth.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help install synth test lint fmt clean bench policy

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(PIPENV):
	python3 -m venv .tools/pipenv
	.tools/pipenv/bin/pip install --quiet --disable-pip-version-check pipenv==$(PIPENV_VERSION)

.venv/.synced: Pipfile.lock | $(PIPENV)
	$(PIPENV) sync --dev
	touch $@

$(CHECKOV):
	python3 -m venv .tools/checkov
	.tools/checkov/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: .venv/.synced node_modules/.installed $(CHECKOV) ## install the locked Python and Node dependencies and checkov

synth: install ## synthesize every stack of ENV (default dev; ENV=prod, ENV=dev,prod or ENV=all) into cdktf.out/
	PLATFORM_ENV=$(ENV) $(PY) main.py

test: install ## run the whole test suite (snapshots, policy, data path, pipelines)
	$(PY) -m pytest

policy: install ## synthesize every environment and run the checkov gate (waivers: policy/waivers.toml)
	PLATFORM_ENV=all $(PY) main.py
	$(PY) -m policy.checkov_gate

lint: install ## ruff and mypy
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

fmt: install ## format the code
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean: ## remove generated output (keeps installed tools)
	rm -rf cdktf.out .pytest_cache .mypy_cache .ruff_cache

-include mk/*.mk

bench: install ## synth benchmark: stock vs fast binding import (RUNS=5, ENV=dev)
	$(PY) -m benchmarks.synth_bench --runs $(or $(RUNS),5) --env $(ENV)
