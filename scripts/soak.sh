#!/usr/bin/env bash
# The full fault suite (about 15 minutes): 100 Prometheus outages under serve,
# 1000 reloads alternating valid and invalid configs, a slow and a hung
# Prometheus for a minute each, and /metrics at 1000 requests/s for 60 s.
# Everything on 127.0.0.1. Prints the figures (lines starting with SOAK).
# The test suite runs a short version of the same tests.
set -euo pipefail
cd "$(dirname "$0")/.."
SLOGATE_SOAK=full cargo test --release --test integration soak:: -- --nocapture --test-threads=1 2>&1 |
  tee "${SOAK_LOG:-/tmp/slogate-soak.log}" | grep -oE 'SOAK .*|test result.*'
