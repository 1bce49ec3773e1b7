#!/usr/bin/env bash
# Refreshes every generated file: rules/ and dashboards/ at the top from
# examples/slogate.yaml, and the Helm chart's files/ from its default config,
# examples/kubernetes.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked
target/debug/slogate generate --config.file=examples/slogate.yaml --output.dir=.
target/debug/slogate generate --config.file=examples/kubernetes.yaml --output.dir=helm/slogate/files
# The chart compares values.config with the config its files/ came from.
cp examples/kubernetes.yaml helm/slogate/files/config.yaml
