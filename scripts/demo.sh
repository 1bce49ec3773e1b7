#!/usr/bin/env bash
# The demo: installs Prometheus only (scripts/install-runtime.sh), builds slogate, starts `slogate simulate`, a real
# Prometheus scraping it and `slogate serve` on loopback, prints the `check` table
# and the URLs, and keeps running until Ctrl-C (or for DEMO_SECONDS seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-runtime.sh
cargo build --release --locked
bin=target/release/slogate
work=$(mktemp -d -t slogate-demo.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
sim_port=$(free_port); prom_port=$(free_port); slogate_port=$(free_port)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_http() { # url, what
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$2 did not come up; logs in $work" >&2
  exit 1
}

"$bin" simulate --web.listen-address="127.0.0.1:$sim_port" >"$work/simulate.log" 2>&1 &
pids+=($!)
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 2s, evaluation_interval: 2s}
scrape_configs:
  - job_name: simulate
    static_configs: [{targets: ['127.0.0.1:$sim_port']}]
  - job_name: slogate
    static_configs: [{targets: ['127.0.0.1:$slogate_port']}]
YAML
prometheus --config.file="$work/prometheus.yml" --web.listen-address="127.0.0.1:$prom_port" \
  --storage.tsdb.path="$work/data" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$sim_port/metrics" "slogate simulate"
wait_http "http://127.0.0.1:$prom_port/-/ready" "Prometheus"
"$bin" serve --config.file=examples/demo.yaml --prometheus.url="http://127.0.0.1:$prom_port" \
  --web.listen-address="127.0.0.1:$slogate_port" >"$work/slogate.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$slogate_port/-/ready" "slogate serve"

echo "== collecting a minute of traffic before the first verdict..."
sleep "${DEMO_WARMUP:-45}"
echo
echo "== slogate check --config.file=examples/demo.yaml"
"$bin" check --config.file=examples/demo.yaml --prometheus.url="http://127.0.0.1:$prom_port" || true
cat <<TXT

== running on loopback (logs in $work)
  status page      http://127.0.0.1:$slogate_port/
  JSON status      http://127.0.0.1:$slogate_port/api/v1/status
  slogate metrics  http://127.0.0.1:$slogate_port/metrics
  Prometheus       http://127.0.0.1:$prom_port/
  simulator        http://127.0.0.1:$sim_port/metrics
  inject a regression:
    curl -XPOST 'http://127.0.0.1:$sim_port/scenario?name=error-burst'
    (also latency-regression, cache-cold; back with name=healthy)
  then: $bin check --config.file=examples/demo.yaml --prometheus.url=http://127.0.0.1:$prom_port
TXT
if [ -n "${DEMO_SECONDS:-}" ]; then
  sleep "$DEMO_SECONDS"
else
  echo "Ctrl-C to stop."
  wait
fi
