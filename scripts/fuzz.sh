#!/usr/bin/env bash
# Longer fuzzing of config files and Prometheus answers than the test suite's
# bounded run: optimised build, CASES cases per property (default 200000).
# Prints the time each property took (after the build).
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${CASES:-200000}"
cargo test --release --locked --lib --no-run --quiet
for test in fuzz_configs_never_panic fuzz_prometheus_answers_never_panic; do
  start=$(date +%s.%N)
  SLOGATE_FUZZ_CASES="$CASES" cargo test --release --lib "fuzz::$test" -- --exact --quiet >/dev/null
  end=$(date +%s.%N)
  awk -v t="$test" -v c="$CASES" -v s="$start" -v e="$end" 'BEGIN { printf "%s: %s cases in %.1f s\n", t, c, e - s }' 
done
