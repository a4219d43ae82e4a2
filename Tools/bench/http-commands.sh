#!/usr/bin/env bash
# Durable commands over HTTP from 64 concurrent connections (wrk, Debian's package) against
# supportd, next to a bare Hummingbird POST route and the log's own group-commit figure, all in
# the same run. Loopback only; every load is bounded in time. Prints the figures.
# Usage: Tools/bench/http-commands.sh [seconds] [connections]
# BENCH_BIN=DIR runs the binaries in DIR (supportd, http-baseline, eventlog-bench) without building
# (to compare an older build in the same session).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-64}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# One product per call: given several --product options, swift build builds only the last one.
if [[ -z "${BENCH_BIN:-}" ]]; then
  for product in supportd http-baseline eventlog-bench; do swift build -c release --product "$product" >/dev/null; done
fi
BIN=$(cd "${BENCH_BIN:-.build/release}" && pwd)
WORK=$(mktemp -d "$PWD/.bench-http-XXXX")
cleanup() { kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "== bare Hummingbird POST /echo"
$BIN/http-baseline 18090 >/dev/null 2>&1 &
BASELINE=$!
sleep 1
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s Tools/bench/echo.lua http://127.0.0.1:18090/echo | grep -E "Requests/sec|50%|99%|Non-2xx"
kill $BASELINE; wait $BASELINE 2>/dev/null || true

echo "== supportd commands (durable)"
cat > "$WORK/tokens.json" <<JSON
{"tokens":[{"token":"bench-agent","role":"agent","id":"amelie"}]}
JSON
$BIN/supportd --data-dir "$WORK/data" --port 18091 --tokens "$WORK/tokens.json" --log-level warning --rate-limit 0 >/dev/null 2>&1 &
SERVER=$!
sleep 1
TICKETS=1000
for i in $(seq 1 $TICKETS); do
  curl -s -o /dev/null -X POST http://127.0.0.1:18091/v1/tickets -H 'Authorization: Bearer bench-agent' \
    -d '{"customer":"c-'$i'","subject":"Site down","body":"HTTP 500 since the migration","channel":"web","product":"hosting","priority":"normal"}'
done
sync; sleep 2
AGENT_TOKEN=bench-agent TICKETS=$TICKETS wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s Tools/bench/commands.lua \
  http://127.0.0.1:18091 | grep -E "Requests/sec|50%|99%|Non-2xx"
kill $SERVER; wait $SERVER 2>/dev/null || true

echo "== log group commit, 64 tasks in process"
(cd "$WORK" && "$BIN/eventlog-bench" group-commit --tasks "$CONNECTIONS" --seconds "$SECONDS_PER_RUN")
