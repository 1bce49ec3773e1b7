#!/usr/bin/env bash
# Installs everything the tests run against: the runtime (Prometheus, promtool; see
# install-runtime.sh), then Alertmanager, VictoriaMetrics and vmalert, and (for the status page test) Chromium from
# Debian's packages, the npm schema/model checkers and the pip Helm tools, each
# pinned. Idempotent; needs root (or sudo) on a Debian-like system.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-runtime.sh

need=()
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# The status page is tested as a browser renders it.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
# The security tests make certificates and speak HTTPS with them.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
# A second query backend (single-node VictoriaMetrics) and vmalert's rule check.
command -v victoria-metrics >/dev/null 2>&1 || need+=(victoria-metrics)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "== installing ${need[*]} (Debian packages)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# npm tools, versions pinned in their lockfiles: Grafana's schema types (dashboard
# type check) and the Prometheus Operator's models (ServiceMonitor, PrometheusRule).
for tool in grafana-schema k8s-models; do
  if [ ! -d "tools/$tool/node_modules" ]; then
    echo "== installing tools/$tool (npm ci)"
    npm ci --prefix "tools/$tool" --no-audit --no-fund --loglevel=error >/dev/null
  fi
done
# Supply chain: licences, bans and sources of every dependency (pinned; a few
# minutes to build once).
if ! cargo deny --version 2>/dev/null | grep -q '^cargo-deny 0.20.2$'; then
  echo "== installing cargo-deny 0.20.2 (cargo install)"
  cargo install --quiet cargo-deny --locked --no-default-features --version 0.20.2
fi
# Offline Helm and manifest validation for the chart tests (pinned).
if ! python3 -c 'import helm_python, kubernetes_validate' >/dev/null 2>&1; then
  echo "== installing tools/helm/requirements.txt (pip)"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r tools/helm/requirements.txt
fi
