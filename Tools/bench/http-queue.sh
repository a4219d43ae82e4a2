#!/usr/bin/env bash
# Queue reads over HTTP (GET /v1/queues/hosting?limit=50 on a queue of 2,000 tickets) with wrk
# at 64 connections, next to a bare Hummingbird JSON GET, in the same run. Loopback only.
# Usage: Tools/bench/http-queue.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-64}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# One product per call: given several --product options, swift build builds only the last one.
for product in supportd http-baseline; do swift build -c release --product "$product" >/dev/null; done
BIN=.build/release
WORK=$(mktemp -d "$PWD/.bench-queue-XXXX")
cleanup() { kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cat > "$WORK/tokens.json" <<JSON
{"tokens":[{"token":"bench-agent","role":"agent","id":"amelie"},{"token":"bench-admin","role":"admin","id":"root"}]}
JSON
# 2,000 tickets waiting in the hosting queue, mixed priorities, opened over the last days.
python3 - "$WORK/tickets.ndjson" <<'PY'
import json, sys, time
now = time.time()
prios = ["low", "normal", "high", "urgent"]
with open(sys.argv[1], "w") as f:
    for n in range(1, 2001):
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 86400 * 3 + n * 60)) + ".000Z"
        f.write(json.dumps({"ticket": "Q-%d" % n, "version": 1, "type": "ticket.opened", "at": at,
            "actor": {"kind": "customer", "id": "c-%d" % n},
            "data": {"customer": "c-%d" % n, "subject": "Site down %d" % n, "body": "HTTP 500",
                     "channel": "web", "product": "hosting", "priority": prios[n % 4]}}) + "\n")
PY
$BIN/supportd --data-dir "$WORK/data" --port 18092 --tokens "$WORK/tokens.json" --log-level warning --rate-limit 0 >/dev/null 2>&1 &
SERVER=$!
sleep 1
curl -s -X POST http://127.0.0.1:18092/v1/import -H 'Authorization: Bearer bench-admin' --data-binary @"$WORK/tickets.ndjson"; echo
$BIN/http-baseline 18093 >/dev/null 2>&1 &
BASELINE=$!
sleep 1
echo "== bare Hummingbird GET /small"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency http://127.0.0.1:18093/small | grep -E "Requests/sec|50%|99%|Non-2xx"
echo "== supportd GET /v1/queues/hosting?limit=50"
AGENT_TOKEN=bench-agent wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s Tools/bench/queue.lua \
  "http://127.0.0.1:18092/v1/queues/hosting?limit=50" | grep -E "Requests/sec|50%|99%|Non-2xx"
curl -s "http://127.0.0.1:18092/v1/queues/hosting?limit=2" -H 'Authorization: Bearer bench-agent' | head -c 300; echo
