#!/usr/bin/env bash
# Webhook figures (issue 14), all in the same run on loopback: deliveries/s from supportd to a
# local receiver (Tools/http-baseline's POST /hook), the same receiver hit directly by wrk as the
# peer, and command latency under 64 connections with 0 vs 10 endpoints registered. The driver is
# Tools/bench/webhooks.py (its docstring says what each part does). Prints the figures.
# Usage: Tools/bench/webhooks.sh [seconds] [connections] [endpoints]
# BENCH_BIN=DIR runs the binaries in DIR (supportd, http-baseline) without building.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-64}
ENDPOINTS=${3:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# One product per call: given several --product options, swift build builds only the last one.
if [[ -z "${BENCH_BIN:-}" ]]; then
  for product in supportd http-baseline; do swift build -c release --product "$product" >/dev/null; done
fi
BIN=$(cd "${BENCH_BIN:-.build/release}" && pwd)
exec python3 Tools/bench/webhooks.py --bin "$BIN" --seconds "$SECONDS_PER_RUN" --connections "$CONNECTIONS" --endpoints "$ENDPOINTS"
