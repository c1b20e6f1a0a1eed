#!/usr/bin/env bash
# `make check`: the packaged template must pass cfn-lint (0 errors) and checkov (0 failed checks; every skip is
# justified in its resource's Metadata), and every ASL file statelint and asl-validator. The two template
# linters run side by side; every tool runs even when an earlier one failed, so one run shows every problem.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
CHECK_VENV="${CHECK_VENV:-.venv-check}"
TEMPLATE="${1:-build/sam.yaml}"
ASL_VALIDATOR=deploy/asl-validator/node_modules/.bin/asl-validator

[ -f "$TEMPLATE" ] || { echo "no $TEMPLATE: run make package first" >&2; exit 2; }
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

# checkov: offline (--skip-download: no guideline download from Prisma Cloud), CloudFormation only.
"$CHECK_VENV/bin/cfn-lint" --format parseable "$TEMPLATE" >"$logs/cfn-lint" 2>&1 &
cfn_lint=$!
"$CHECK_VENV/bin/checkov" --quiet --compact --skip-download --framework cloudformation -f "$TEMPLATE" >"$logs/checkov" 2>&1 &
checkov=$!

failed=0
for asl in stepfunctions/*.asl.json; do
  "$VENV/bin/statelint" "$asl" || { echo "statelint: $asl is not valid ASL"; failed=1; }
  "$ASL_VALIDATOR" --silent --json-path "$asl" || { echo "asl-validator: $asl is not valid ASL"; "$ASL_VALIDATOR" --json-path "$asl"; failed=1; }
done
echo "statelint, asl-validator: $(ls stepfunctions/*.asl.json | wc -l) ASL files checked"

# cfn-lint exits non-zero for warnings too (bit 4 = warnings, 8 = informational); only errors (bit 2) fail.
wait "$cfn_lint"; status=$?
if (( status & 2 )) || (( status & 1 )) || (( status > 15 )); then
  echo "cfn-lint: errors in $TEMPLATE"; cat "$logs/cfn-lint"; failed=1
else
  echo "cfn-lint: 0 errors$( [ -s "$logs/cfn-lint" ] && echo ", warnings:" )"; cat "$logs/cfn-lint"
fi
wait "$checkov"; status=$?
if (( status != 0 )); then
  echo "checkov: failed checks in $TEMPLATE"; cat "$logs/checkov"; failed=1
else
  echo "checkov: $(grep -o 'Passed checks: [0-9]*, Failed checks: [0-9]*, Skipped checks: [0-9]*' "$logs/checkov")"
fi
exit "$failed"
