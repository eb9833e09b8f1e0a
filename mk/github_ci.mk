# GitHub Actions support (docs/github_ci.md). `plan` needs only terraform and
# the synthesized cdktf.out/ (CI downloads it as an artifact), so it does not
# depend on `install`.
.PHONY: plan

plan: ## read-only terraform plan of ENV's stacks in cdktf.out/ (needs ARM_* Azure credentials)
	.github/scripts/terraform-plan.sh $(ENV)
