#!/usr/bin/env bash
# What `serve` costs with many SLO groups (issue 11): 5 SLOs grouped by service
# over SERVICES synthetic services (default 2,000: 10,000 exported SLO results),
# against a real Prometheus holding 2 days of backfilled history (one sample every
# 5 minutes). Prints the first (full) evaluation's samples and the steady state's
# per minute (windows of a day or more are re-read every 5 minutes), the /metrics
# scrape size (plain and gzip), its latency under a paced load of RATE requests/s
# for LOAD_SECONDS seconds (benches/scrape_load.rs), and serve's resident memory.
#
#   bash scripts/bench-serve.sh              # SERVICES=2000 RATE=500 LOAD_SECONDS=20
#
# SERVE_ENV="MALLOC_ARENA_MAX=2" passes environment to `serve` (e.g. to compare
# allocators' resident memory). Loopback only; every loop is bounded. Not part of
# the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-runtime.sh >/dev/null
services=${SERVICES:-2000}
rate=${RATE:-500}
seconds=${LOAD_SECONDS:-20}
work=$(mktemp -d -t slogate-bench-serve.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
cargo build --release --locked -q
# The load generator, built now: later edits to the tree must not rebuild it mid-run.
load=$(cargo bench --locked --no-run --bench scrape_load 2>&1 | grep -o 'target/release/deps/scrape_load-[0-9a-f]*' | head -1)
[ -x "$load" ] || { echo "cannot find the scrape_load bench binary"; exit 1; }
bin=$work/slogate
cp target/release/slogate "$bin"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

end=$(( $(date +%s) / 3600 * 3600 - 3600 ))
echo "== writing 2 days of history for $services services and the 5 SLOs"
python3 - "$work" "$end" "$services" <<'PY'
import sys
sys.path.insert(0, "scripts")
import example_traffic
work, end, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
step, points = 300, 2 * 288
times = [end - (points - i) * step for i in range(points + 1)]
services = [f"s{i:04d}" for i in range(n)]
with open(f"{work}/history.om", "w") as out:
    example_traffic.write(out, services, times)
    out.write("# EOF\n")
with open(f"{work}/slogate.yaml", "w") as cfg:
    cfg.write("""apiVersion: slogate/v1
evaluation: {interval: 1m, long_window_interval: 5m}
defaults: {window: 30d, min_events: 1}
slos:
  - {name: availability, objective: 99.9, group_by: [service], sli: {ratio: {errors: 'http_requests_total{code=~"5.."}', total: http_requests_total}}}
  - {name: availability-strict, objective: 99.99, group_by: [service], sli: {ratio: {good: 'http_requests_total{code=~"2.."}', total: http_requests_total}}}
  - {name: latency, objective: 95, group_by: [service], sli: {latency: {histogram: http_request_duration_seconds, threshold: 200ms}}}
  - {name: uptime, objective: 99.9, group_by: [job], sli: {uptime: {selector: up}}}
  - {name: cache-hit, objective: 90, group_by: [service], sli: {cache: {hits: cache_hits_total, misses: cache_misses_total}}}
""")
PY
promtool tsdb create-blocks-from openmetrics "$work/history.om" "$work/blocks" >/dev/null
rm -f "$work/history.om"
port=$(free_port)
printf 'scrape_configs: []\n' >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --web.listen-address="127.0.0.1:$port" \
  --storage.tsdb.path="$work/blocks" --storage.tsdb.retention.time=3650d --log.level=warn \
  >"$work/prometheus.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do curl -fsS -o /dev/null "http://127.0.0.1:$port/-/ready" 2>/dev/null && break; sleep 0.2; done
sport=$(free_port)
env ${SERVE_ENV:-} "$bin" serve --config.file="$work/slogate.yaml" --prometheus.url="http://127.0.0.1:$port" \
  --web.listen-address="127.0.0.1:$sport" --at="$end" >"$work/serve.log" 2>&1 &
spid=$!; pids+=($spid)
metrics() { curl -fsS "http://127.0.0.1:$sport/metrics"; }
samples() { metrics | awk '$1 == "slogate_query_samples_total" {print $2}'; }
for _ in $(seq 1 600); do curl -fsS -o /dev/null "http://127.0.0.1:$sport/-/ready" 2>/dev/null && break; sleep 0.2; done
first=$(samples)
results=$(metrics | grep -c '^slogate_slo_ready{' || true)
echo "SLO results exported: $results; series on /metrics: $(metrics | grep -vc '^#')"
echo "first evaluation: $first samples read"
echo "== waiting for the next evaluation (interval 1m)"
second=$first
for _ in $(seq 1 90); do sleep 1; second=$(samples); [ "$second" != "$first" ] && break; done
awk -v a="$first" -v b="$second" 'BEGIN {printf "steady state: %d samples a minute, %.1f%% of a full evaluation\n", b-a, 100*(b-a)/a}'
echo "scrape size: $(metrics | wc -c) bytes plain, $(curl -fsS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$sport/metrics" | wc -c) bytes when gzip is asked"
echo "== /metrics under $rate requests/s for $seconds s"
SCRAPE_URL="http://127.0.0.1:$sport/metrics" RATE="$rate" LOAD_SECONDS="$seconds" "$load"
grep -E 'VmRSS|VmHWM' "/proc/$spid/status" | tr -s ' \t' ' ' | sed 's/^/serve: /'
