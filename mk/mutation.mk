# Mutation check (issue 15): curated semantic mutations in mutation/mutations.toml, each of which
# a non-snapshot test must kill. JOBS parallel scratch copies; ONLY=id,id or AREA=stacks to narrow.
.PHONY: mutation

mutation: install ## mutation check: apply each curated mutation, run its tests, exit 1 on any survivor
	$(PY) -m mutation --jobs $(or $(JOBS),2) $(if $(ONLY),--only $(ONLY)) $(if $(AREA),--area $(AREA))
