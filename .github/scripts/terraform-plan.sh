#!/usr/bin/env bash
# Read-only terraform plan of one environment's synthesized stacks, in
# dependency order (network before mlplatform), with a reviewer-facing summary.
#
#   terraform-plan.sh <env>            init + plan -lock=false + show, per stack
#   terraform-plan.sh --backend <env>  print remote=true|false for $GITHUB_OUTPUT
#
# STACKS_DIR    synthesized stacks (default cdktf.out/stacks)
# PLAN_SUMMARY  where the Markdown summary goes (default $GITHUB_STEP_SUMMARY; none
#               outside CI, where the terraform output on stdout is the summary)
# PLAN_SUMMARY_STACK_BYTES  plan text kept per stack: GitHub rejects a step
#               summary over 1 MiB, and two stacks share one step
set -euo pipefail

stacks_dir="${STACKS_DIR:-cdktf.out/stacks}"
summary="${PLAN_SUMMARY:-${GITHUB_STEP_SUMMARY:-/dev/null}}"
stack_bytes="${PLAN_SUMMARY_STACK_BYTES:-480000}"

usage() {
  echo "usage: terraform-plan.sh [--backend] <env>" >&2
  exit 2
}

stack_file() {
  local file="${stacks_dir}/$1/cdk.tf.json"
  if [[ ! -f "${file}" ]]; then
    echo "terraform-plan: ${file} is missing: run 'make synth ENV=${env_name}' first (or set STACKS_DIR)" >&2
    exit 2
  fi
  printf '%s\n' "${file}"
}

# The plan reads the state only; -lock=false keeps the CI identity at
# blob read access (a lock is a blob lease, which needs write access).
plan_stack() {
  local stack="$1" dir="${stacks_dir}/$1"
  stack_file "${stack}" >/dev/null
  terraform -chdir="${dir}" init -input=false -no-color
  terraform -chdir="${dir}" plan -input=false -lock=false -no-color -out=tfplan
  terraform -chdir="${dir}" show -no-color tfplan >"${dir}/tfplan.txt"

  local size verdict
  size=$(wc -c <"${dir}/tfplan.txt")
  verdict=$(grep -m1 -E '^(Plan: |No changes\.|Changes to Outputs:)' "${dir}/tfplan.txt" || true)
  {
    # shellcheck disable=SC2016 # the backticks are Markdown, not a command
    printf '### `%s`\n\n%s\n\n<details><summary>full plan</summary>\n\n```text\n' "${stack}" "${verdict:-see the plan}"
    head -c "${stack_bytes}" "${dir}/tfplan.txt"
    printf '\n```\n</details>\n\n'
    if ((size > stack_bytes)); then
      printf '> Truncated: %d of %d bytes shown; the job log has the whole plan.\n\n' "${stack_bytes}" "${size}"
    fi
  } >>"${summary}"
}

backend_only=false
if [[ "${1:-}" == "--backend" ]]; then
  backend_only=true
  shift
fi
[[ $# -eq 1 && -n "$1" ]] || usage
env_name="$1"
stacks=("network-${env_name}" "mlplatform-${env_name}")

if [[ "${backend_only}" == true ]]; then
  network_file=$(stack_file "${stacks[0]}")
  if jq -e '.terraform.backend.azurerm' "${network_file}" >/dev/null; then
    echo "remote=true"
  else
    echo "remote=false"
    note="Skipped: the stacks of ${env_name} keep state in a local backend, so there is no shared state to plan against."
    echo "terraform-plan: ${note}" >&2
    printf '## terraform plan: %s\n\n%s\n' "${env_name}" "${note}" >>"${summary}"
  fi
  exit 0
fi

printf '## terraform plan: %s\n\n' "${env_name}" >>"${summary}"
for stack in "${stacks[@]}"; do
  plan_stack "${stack}"
done
