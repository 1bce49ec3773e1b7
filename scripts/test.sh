#!/usr/bin/env bash
# The test command: installs what the tests need, then format, lint and every test
# (unit tests and integration tests against a real Prometheus).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
# Every dependency's licence allowed, no unknown source (deny.toml); offline, so
# every target's crates are fetched first (cargo metadata needs them all, e.g. the
# android/windows crates behind chrono's local-time support).
cargo fetch --locked
cargo deny --offline check licenses bans sources 2>&1 | tail -n 3
cargo test --locked
# Bounded fuzzing, optimised: 100000 generated configs and 100000 generated
# Prometheus answers (about a minute each on 2 cores). The debug run above
# covers fewer cases, with overflow checks on.
SLOGATE_FUZZ_CASES=100000 cargo test --release --locked --lib --quiet fuzz::
