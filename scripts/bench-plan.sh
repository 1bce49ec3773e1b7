#!/usr/bin/env bash
# What slogate costs Prometheus with many SLOs (issue 11's set): 100 SLOs, 24
# distinct availability and latency SLOs over http_requests_total and
# http_request_duration_seconds per (service, route), cycled to 100, each with its
# own selector and no group_by, against 28 days of backfilled history (one sample
# every 5 minutes; STEP=60 for one a minute, as the issue measured). Prints, per
# `slogate check`: queries, samples Prometheus read (stats=all), Prometheus' eval
# time and CPU, slogate's wall and CPU time; and the floor: every distinct series
# the SLOs select, read once per window slogate needs.
#
#   bash scripts/bench-plan.sh            # RUNS=5 by default
#
# Loopback only; every loop is bounded. Not part of the test suite (timings on a
# shared machine are noisy; the sample counts are exact).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-runtime.sh >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq --no-install-recommends time >/dev/null
runs=${RUNS:-5}
work=$(mktemp -d -t slogate-bench-plan.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
cargo build --release --locked -q
bin=target/release/slogate

end=$(( $(date +%s) / 3600 * 3600 - 3600 ))
step=${STEP:-300}
echo "== writing 28 days of history for 6 services x 4 routes (a sample every ${step}s) and 100 SLOs"
python3 - "$work" "$end" "$step" <<'PY'
import sys
work, end, step = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
days = 28
start = end - days * 86400
services = [f"svc{i}" for i in range(6)]
routes = [f"/r{i}" for i in range(4)]
buckets = ["0.1", "0.2", "0.5", "1", "+Inf"]
share = [0.80, 0.93, 0.98, 0.995, 1.0]      # cumulative share of requests per bucket
rpm = 1000                                    # requests a minute per (service, route)
times = range(start, end + 1, step)
with open(f"{work}/history.om", "w") as out:
    out.write("# TYPE http_requests counter\n")
    for s in services:
        for r in routes:
            for code, frac in (("200", 0.999), ("500", 0.001)):
                for i, t in enumerate(times):
                    out.write(f'http_requests_total{{service="{s}",route="{r}",code="{code}"}} {round(i * step / 60 * rpm * frac, 3)} {t}\n')
    out.write("# TYPE http_request_duration_seconds histogram\n")
    for s in services:
        for r in routes:
            for le, f in zip(buckets, share):
                for i, t in enumerate(times):
                    out.write(f'http_request_duration_seconds_bucket{{service="{s}",route="{r}",le="{le}"}} {round(i * step / 60 * rpm * f, 3)} {t}\n')
            for name in ("count", "sum"):
                for i, t in enumerate(times):
                    v = i * step / 60 * rpm * (1.0 if name == "count" else 0.15)
                    out.write(f'http_request_duration_seconds_{name}{{service="{s}",route="{r}"}} {round(v, 3)} {t}\n')
    out.write("# EOF\n")
distinct = []
for s in services:
    for r in routes[:2]:
        sel = f'service="{s}",route="{r}"'
        distinct.append(("availability", f"      ratio:\n        errors: 'http_requests_total{{{sel},code=~\"5..\"}}'\n        total: 'http_requests_total{{{sel}}}'\n", "99.9"))
        distinct.append(("latency", f"      latency:\n        histogram: 'http_request_duration_seconds{{{sel}}}'\n        threshold: 500ms\n", "95"))
with open(f"{work}/slogate.yaml", "w") as cfg:
    cfg.write("apiVersion: slogate/v1\nevaluation: {concurrency: 8}\ndefaults: {window: 28d, min_events: 1}\nslos:\n")
    for n in range(100):
        kind, sli, objective = distinct[n % len(distinct)]
        cfg.write(f"  - name: {kind}-{n}\n    objective: {objective}\n    sli:\n{sli}")
PY
promtool tsdb create-blocks-from openmetrics --max-block-duration=744h "$work/history.om" "$work/blocks" >/dev/null
rm -f "$work/history.om"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'scrape_configs: []\n' >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --web.listen-address="127.0.0.1:$port" \
  --storage.tsdb.path="$work/blocks" --storage.tsdb.retention.time=3650d --log.level=warn \
  >"$work/prometheus.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do curl -fsS -o /dev/null "http://127.0.0.1:$port/-/ready" 2>/dev/null && break; sleep 0.2; done
# Today's planner (fused), the same SLOs one query per SLO and window (naive), and,
# with BASELINE=<git rev>, slogate as built from that revision (e.g. the commit
# before the planner, be0c216), all in the same run.
prom_cpu() { curl -fsS "http://127.0.0.1:$port/metrics" | awk '$1 == "process_cpu_seconds_total" {print $2}'; }
bins=("fused:$bin:--plan=fused" "naive:$bin:--plan=naive")
if [ -n "${BASELINE:-}" ]; then
  git worktree add -f -q "$work/baseline" "$BASELINE"
  (cd "$work/baseline" && cargo build --release --locked -q --target-dir "$work/baseline-target")
  bins+=("$BASELINE:$work/baseline-target/release/slogate:")
fi
for entry in "${bins[@]}"; do
  IFS=: read -r label exe flag <<<"$entry"
  args=(check --config.file="$work/slogate.yaml" --prometheus.url="http://127.0.0.1:$port" --at="$end" --output=json)
  [ -n "$flag" ] && args+=("$flag")
  "$exe" "${args[@]}" >"$work/warm.json" || true   # warm Prometheus' caches once
  echo "== $label: $runs runs of slogate check (100 SLOs)"
  rm -f "$work/times"
  cpu_before=$(prom_cpu)
  for i in $(seq 1 "$runs"); do
    /usr/bin/time -q -a -o "$work/times" -f "%e %U %S" "$exe" "${args[@]}" >"$work/check-$label.json" 2>/dev/null || true
  done
  python3 - "$work/check-$label.json" <<'PY'
import json, sys
cost = json.load(open(sys.argv[1])).get("cost")
if cost:
    print(f"per check: {cost['queries']} queries, {cost['samples']} samples read, "
          f"Prometheus eval {cost['prometheus_eval_seconds']:.3f} s")
else:
    print("per check: no cost in this build's output")
PY
  awk '{w+=$1; c+=$2+$3} END {printf "slogate: wall %.3f s/run, cpu %.3f s/run\n", w/NR, c/NR}' "$work/times"
  awk -v a="$cpu_before" -v b="$(prom_cpu)" -v n="$runs" 'BEGIN {printf "Prometheus: cpu %.3f s/run (process_cpu_seconds_total)\n", (b-a)/n}'
done
cp "$work/check-fused.json" "$work/check.json"
[ -n "${BASELINE:-}" ] && git worktree remove --force "$work/baseline"
echo "== the floor: each distinct series an SLO selects, read once per window"
python3 - "$port" "$end" "$work/check.json" <<'PY'
import json, re, sys, urllib.parse, urllib.request
port, end, doc = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
windows = sorted({w for r in doc["results"] for q in r["queries"] for w in re.findall(r"\[(\w+)\]", q)})
read = 'route=~"/r0|/r1"'    # the routes the SLOs select
total = 0
for w in windows:
    for q in (f"sum by (service, route, code) (increase(http_requests_total{{{read}}}[{w}]))",
              f"sum by (service, route, le) (increase(http_request_duration_seconds_bucket{{{read}}}[{w}]))"):
        data = urllib.parse.urlencode({"query": q, "time": end, "stats": "all"}).encode()
        answer = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query", data))
        total += answer["data"]["stats"]["samples"]["totalQueryableSamples"]
for q in (f"count by (service, route) (http_requests_total{{{read}}})",
          f"count by (service, route) (http_request_duration_seconds_count{{{read}}})"):
    data = urllib.parse.urlencode({"query": q, "time": end, "stats": "all"}).encode()
    answer = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query", data))
    total += answer["data"]["stats"]["samples"]["totalQueryableSamples"]
print(f"floor over windows {', '.join(windows)} and the series present now: {total} samples")
PY
