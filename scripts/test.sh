#!/usr/bin/env bash
# The test command: installs what the tests need, then format, lint and every test
# (unit tests and integration tests against a real Prometheus).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
