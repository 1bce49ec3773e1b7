#!/usr/bin/env bash
# What the generated rules cost Prometheus (issue 17, item 8): the example's rule
# files as generated today (rules/) and at BASELINE (default 03e8a6a, when every
# SLO also recorded its SLO-window ratio: a 30-day sum_over_time each evaluation),
# each loaded into a Prometheus holding 30 days of what they read: the 5-minute
# increases the rules record (backfilled, one sample a minute) and, for the last
# 7 hours, the raw counters, for SERVICES services. Prints per rule set: samples
# every rule expression reads at one instant (stats=all; exact, summed over one
# evaluation round of every group) and the groups' evaluation time as Prometheus
# reports it (/api/v1/rules, mean of ROUNDS rounds; indicative on a shared machine).
#
#   bash scripts/bench-rules.sh            # SERVICES=20 ROUNDS=10
#
# Loopback only; every loop is bounded. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-runtime.sh >/dev/null
baseline=${BASELINE:-03e8a6a}
services=${SERVICES:-20}
rounds=${ROUNDS:-10}
work=$(mktemp -d -t slogate-bench-rules.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mkdir -p "$work/today" "$work/baseline"
cp rules/*.yaml "$work/today/"
rm -f "$work/today/slogate-self.yaml"
git ls-tree --name-only "$baseline" rules/ | grep '\.yaml$' | grep -v slogate-self | while read -r f; do
  git show "$baseline:$f" >"$work/baseline/$(basename "$f")"
done
end=$(( $(date +%s) / 60 * 60 ))
echo "== writing 30 days of recorded 5m increases and 7 hours of raw counters for $services services"
python3 - "$work" "$end" "$services" <<'PY'
import sys
sys.path.insert(0, "scripts")
import example_traffic
work, end, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
step = 60
services = [f"s{i:03d}" for i in range(n)]
long_times = range(end - 30 * 86400, end + 1, step)
short_times = list(range(end - 7 * 3600, end + 1, step))
with open(f"{work}/history.om", "w") as out:
    # What the recording rules wrote, as if they had run for 30 days.
    for name, value in (("slo:sli_bad:increase5m", 1.0), ("slo:sli_total:increase5m", 1000.0)):
        out.write(f"# TYPE {name} gauge\n")
        for slo in ("availability", "latency", "uptime", "cache-hit"):
            for s in services:
                key = "job" if slo == "uptime" else "service"
                labels = f'{key}="{s}",service="{s}",slo="{slo}"' if key == "job" else f'service="{s}",slo="{slo}"'
                for t in long_times:
                    out.write(f"{name}{{{labels}}} {value} {t}\n")
    example_traffic.write(out, services, short_times)
    out.write("# TYPE backup_last_success_timestamp_seconds gauge\n")
    for t in short_times:
        out.write(f"backup_last_success_timestamp_seconds {t - 3600} {t}\n")
    out.write("# EOF\n")
PY
promtool tsdb create-blocks-from openmetrics --max-block-duration=744h "$work/history.om" "$work/blocks" >/dev/null
rm -f "$work/history.om"

for set in baseline today; do
  cp -r "$work/blocks" "$work/blocks-$set"
  port=$(free_port)
  {
    printf 'global: {evaluation_interval: 5s}\nrule_files:\n'
    for f in "$work/$set"/*.yaml; do printf '  - %s\n' "$f"; done
    printf 'scrape_configs: []\n'
  } >"$work/prometheus-$set.yml"
  prometheus --config.file="$work/prometheus-$set.yml" --web.listen-address="127.0.0.1:$port" \
    --storage.tsdb.path="$work/blocks-$set" --storage.tsdb.retention.time=3650d --log.level=warn \
    >"$work/prometheus-$set.log" 2>&1 &
  pid=$!; pids+=($pid)
  for _ in $(seq 1 150); do curl -fsS -o /dev/null "http://127.0.0.1:$port/-/ready" 2>/dev/null && break; sleep 0.2; done
  echo "== $set ($( [ "$set" = today ] && echo "rules/ now" || echo "rules/ at $baseline")): $(ls "$work/$set" | wc -l) files"
  python3 - "$work/$set" "$port" "$end" "$rounds" <<'PY'
import glob, json, sys, time, urllib.parse, urllib.request
import yaml
folder, port, end, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
base = f"http://127.0.0.1:{port}/api/v1"
def get(path, **params):
    with urllib.request.urlopen(f"{base}/{path}?{urllib.parse.urlencode(params)}", timeout=60) as r:
        return json.load(r)
rules = [r for f in sorted(glob.glob(f"{folder}/*.yaml")) for g in yaml.safe_load(open(f))["groups"] for r in g["rules"]]
samples = 0
heaviest = []
for r in rules:
    d = get("query", query=r["expr"], time=end, stats="all")
    n = d["data"]["stats"]["samples"]["totalQueryableSamples"]
    samples += n
    heaviest.append((n, r.get("record") or r.get("alert")))
heaviest.sort(reverse=True)
print(f"rules: {len(rules)}; samples read per evaluation round: {samples}")
print("heaviest: " + ", ".join(f"{name} {n}" for n, name in heaviest[:3]))
# Prometheus' own timing: the groups' last evaluation time, once per round.
seen, times = {}, []
deadline = time.time() + 10 * rounds + 30
while len(times) < rounds and time.time() < deadline:
    groups = get("rules")["data"]["groups"]
    stamp = tuple(g["lastEvaluation"] for g in groups)
    if stamp not in seen and all(not s.startswith("0001") for s in stamp):
        seen[stamp] = True
        times.append(sum(g["evaluationTime"] for g in groups))
    time.sleep(1)
if times:
    print(f"evaluation time of all groups: mean {1000 * sum(times) / len(times):.2f} ms, "
          f"max {1000 * max(times):.2f} ms over {len(times)} rounds")
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
