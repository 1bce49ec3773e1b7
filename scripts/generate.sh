#!/usr/bin/env bash
# Refreshes every generated file from examples/slogate.yaml: rules/ and dashboards/
# at the top, and the Helm chart's copies in helm/slogate/files/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked
for dir in . helm/slogate/files; do
  target/debug/slogate generate --config.file=examples/slogate.yaml --output.dir="$dir"
done
