# data_bootstrap: Snowflake connection, raw datastore and versioned raw data asset (docs/data_bootstrap.md).
OUTPUTS ?= outputs.json
STEP ?= all

.PHONY: bootstrap-plan bootstrap-apply bootstrap-verify test-data

bootstrap-plan: $(PY_ENV) ## data bootstrap: show what apply would change (ENV, OUTPUTS=outputs.json, STEP=all)
	$(PY) -m data_bootstrap plan --env $(ENV) --outputs $(OUTPUTS) --step $(STEP)

bootstrap-apply: $(PY_ENV) ## data bootstrap: register connection + datastore, import the raw data asset
	$(PY) -m data_bootstrap apply --env $(ENV) --outputs $(OUTPUTS) --step $(STEP)

bootstrap-verify: $(PY_ENV) ## data bootstrap: check the current raw data asset (manifest, data contract), write profile/
	$(PY) -m data_bootstrap verify --env $(ENV) --outputs $(OUTPUTS)

test-data: $(PY_ENV) $(NPM_TOOLS) ## run the data_bootstrap tests (they start fakesnow and Azurite themselves)
	$(PYTEST) tests/data_bootstrap
