#!/usr/bin/env bash
# The GitHub Action's run step (action.yml), kept here so it can be run and tested outside GitHub.
# Inputs arrive as environment variables, never interpolated into the script:
#   ADVISOR_COMMAND check|lint, ADVISOR_POLICY, ADVISOR_PATHS, ADVISOR_FAIL_ON, ADVISOR_EXIT_ZERO, ADVISOR_SARIF;
#   ADVISOR_BIN the advisor to run (default: the action's own virtual environment).
# It always sets exit-code in $GITHUB_OUTPUT, and never leaves an empty SARIF file.
set -u
bin="${ADVISOR_BIN:-${RUNNER_TEMP:-/tmp}/advisor-venv/bin/advisor}"
out="${GITHUB_OUTPUT:-/dev/null}"
code=0
finish() { echo "exit-code=$code" >> "$out"; exit "$code"; }
fail() { echo "::error title=advisor::$1"; code=2; finish; }

args=()
case "${ADVISOR_COMMAND:-check}" in
  check)
    [ -n "${ADVISOR_POLICY:-}" ] || fail "command check needs the policy input (an advisor.toml or pyproject.toml)"
    args=(check --policy "$ADVISOR_POLICY") ;;
  lint)
    read -r -a paths <<< "${ADVISOR_PATHS:-.}"
    args=(lint "${paths[@]}")
    if [ -n "${ADVISOR_POLICY:-}" ]; then args+=(--policy "$ADVISOR_POLICY"); fi ;;
  *) fail "command must be check or lint, not ${ADVISOR_COMMAND}" ;;
esac
if [ -n "${ADVISOR_POLICY:-}" ] && [ ! -f "$ADVISOR_POLICY" ]; then
  fail "the policy file ${ADVISOR_POLICY} does not exist"
fi
if [ -n "${ADVISOR_FAIL_ON:-}" ]; then args+=(--fail-on "$ADVISOR_FAIL_ON"); fi
if [ "${ADVISOR_EXIT_ZERO:-false}" = "true" ]; then args+=(--exit-zero); fi
if [ -n "${ADVISOR_SARIF:-}" ]; then
  # written whole or, when the run fails first, as a SARIF log that carries the error
  "$bin" "${args[@]}" --format sarif --output "$ADVISOR_SARIF" 2>/dev/null
  if [ ! -s "$ADVISOR_SARIF" ]; then rm -f "$ADVISOR_SARIF"; fi
fi
"$bin" "${args[@]}" --format github
code=$?
finish
