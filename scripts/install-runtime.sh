#!/usr/bin/env bash
# Installs what the demo and the benchmark need to run slogate against a real
# server: Prometheus and promtool (Debian's `prometheus` package), and checks for
# cargo. Idempotent; needs root (or sudo) on a Debian-like system.
set -euo pipefail
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "== installing prometheus (Debian package)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
prometheus --version 2>&1 | head -1
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust from https://rustup.rs" >&2
  exit 1
fi
