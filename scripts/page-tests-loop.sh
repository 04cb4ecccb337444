#!/usr/bin/env bash
# Runs the server tests that render portal pages (the `portal` and `assets` modules of the
# `api` test binary, several servers rendering at once in one process) N times in a row, each
# run under a timeout, and reports how many passed, failed and hung (issue 26 item 4; the hang
# of issue 15 was a test that never got its response).
#
# Usage: scripts/page-tests-loop.sh [RUNS] [--timeout SECS] [-- FILTER...]
#   RUNS         how many runs (default 50)
#   --timeout    seconds one run may take before it counts as hung (default 120)
#   FILTER       test name filters for the api binary (default: portal assets)
# Exit status: 0 when every run passed, 1 otherwise. Logs of failed or hung runs are kept in
# the directory printed at the end.
set -euo pipefail

runs=50
per_run=120
filters=(portal assets)
while (($#)); do
  case "$1" in
    --timeout) per_run=${2:?--timeout needs seconds}; shift 2 ;;
    --) shift; filters=("$@"); break ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) runs=$1; shift ;;
  esac
done
[[ $runs =~ ^[0-9]+$ && $per_run =~ ^[0-9]+$ ]] || { echo "page-tests-loop: bad number" >&2; exit 2; }

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/keyport-ci/target}
# Built once; every run executes the same test binary, so the timeout measures the tests only.
cargo test -q -p server --test api --no-run 2>/dev/null
bin=$(cargo test -q -p server --test api --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "api":
        print(m["executable"])' | tail -n 1)
[[ -x $bin ]] || { echo "page-tests-loop: cannot find the api test binary" >&2; exit 2; }

logs=$(mktemp -d "${TMPDIR:-/tmp}/page-tests-loop.XXXXXX")
passed=0 failed=0 hung=0
for ((i = 1; i <= runs; i++)); do
  log=$logs/run-$i.log
  rc=0
  # --kill-after: a run stuck on a future that is never woken ignores nothing, but be sure.
  (cd server && timeout --kill-after=5 "$per_run" "$bin" "${filters[@]}") >"$log" 2>&1 || rc=$?
  if ((rc == 0)); then
    passed=$((passed + 1))
    rm -f "$log"
  elif ((rc == 124 || rc == 137)); then
    hung=$((hung + 1))
    echo "run $i: HUNG (no result within ${per_run}s); running: $(grep -o 'test [^ ]* has been running.*' "$log" | head -n 3 | paste -sd ';')" >&2
  else
    failed=$((failed + 1))
    echo "run $i: FAILED (exit $rc): $(grep -E '^    [a-z_:]+$|panicked' "$log" | head -n 3 | paste -sd ';')" >&2
  fi
  printf 'run %d/%d: %d passed, %d failed, %d hung\n' "$i" "$runs" "$passed" "$failed" "$hung"
done
echo "page tests (${filters[*]}): $runs runs, $passed passed, $failed failed, $hung hung (timeout ${per_run}s); logs of the others in $logs"
((passed == runs))
