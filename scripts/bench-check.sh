#!/usr/bin/env bash
# Measures one `slogate check` of examples/slogate.yaml against a real Prometheus
# holding the integration tests' 30 days of backfilled history: wall time and CPU per
# run, queries sent, binary size, and `serve`'s resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-runtime.sh >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq --no-install-recommends time >/dev/null
runs=${RUNS:-10}
work=$(mktemp -d -t slogate-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
cargo build --release --locked -q
echo "== building the backfilled history (via the known-answer test)"
SLOGATE_HISTORY_DIR="$work/history" cargo test --release --locked -q --test integration \
  known_answer::check_json_matches_the_designed_history >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The generated rules of the example config are loaded too, to measure their cost.
printf 'global: {evaluation_interval: 5s}\nrule_files: ["%s/rules/*.yaml"]\nscrape_configs: []\n' "$PWD" >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --web.listen-address="127.0.0.1:$port" \
  --storage.tsdb.path="$work/history/blocks" --storage.tsdb.retention.time=3650d --log.level=warn \
  >"$work/prometheus.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/-/ready" 2>/dev/null && break; sleep 0.2; done
bin=target/release/slogate
at=$(( $(date +%s) / 3600 * 3600 - 3600 ))
args=(check --config.file=examples/slogate.yaml --prometheus.url="http://127.0.0.1:$port" --at="$at" --output=json)
"$bin" "${args[@]}" >/dev/null || true   # warm Prometheus' caches once
echo "== $runs runs of: slogate ${args[*]}"
for i in $(seq 1 "$runs"); do
  /usr/bin/time -q -a -o "$work/times" -f "%e %U %S %M" "$bin" "${args[@]}" >/dev/null 2>&1 || true
done
awk '{w+=$1; c+=$2+$3; m=($4>m?$4:m)} END {printf "wall %.3f s/run, cpu %.3f s/run, max RSS %d KiB\n", w/NR, c/NR, m}' "$work/times"
"$bin" "${args[@]}" --log.level=debug 2>&1 >/dev/null | grep -o 'queries=[0-9]*' | sed 's/^/per evaluation: /' || true
echo "binary size: $(stat -c %s "$bin") bytes"
sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --config.file=examples/slogate.yaml --prometheus.url="http://127.0.0.1:$port" \
  --web.listen-address="127.0.0.1:$sport" --at="$at" --log.level=debug >"$work/serve.log" 2>&1 &
spid=$!; pids+=($spid)
sleep 5
for _ in $(seq 1 20); do curl -fsS -o /dev/null "http://127.0.0.1:$sport/metrics"; done
echo "serve: $(grep VmRSS /proc/$spid/status) after 20 scrapes"
echo "rules loaded: $(curl -fsS "http://127.0.0.1:$port/api/v1/rules" | python3 -c 'import json,sys; print(sum(len(g["rules"]) for g in json.load(sys.stdin)["data"]["groups"]))')"
# Prometheus does not scrape itself here: read prometheus_rule_group_last_duration_seconds'
# source, the rules API's evaluationTime.
curl -fsS "http://127.0.0.1:$port/api/v1/rules" | python3 -c 'import json,sys
for g in json.load(sys.stdin)["data"]["groups"]:
    print("rule group %-24s %2d rules, last evaluation %.4f s" % (g["name"], len(g["rules"]), g["evaluationTime"]))'
