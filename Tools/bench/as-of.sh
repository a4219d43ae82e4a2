#!/usr/bin/env bash
# Point-in-time answers from the projection snapshots against full folds, in the same run: the
# rebuild without snapshots and the fold taking them (CPU, memory), alternating with another
# tree's projection-bench when given, then every view as of 200 random instants from the
# snapshots (p50/p99), with full folds at a few of them as the peer (same projection and answers).
# Usage: Tools/bench/as-of.sh EVENTS WORKDIR [OTHER_PROJECTION_BENCH]
# (logs are kept in WORKDIR and reused: 10 M events take about 3 GB and 2-3 minutes to write)
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS=${1:?events}
WORK=${2:?work directory}
OTHER=${3:-}
swift build -c release --product projection-bench >/dev/null
BENCH=.build/release/projection-bench
mkdir -p "$WORK"
[ -d "$WORK/log-$EVENTS" ] || "$BENCH" generate --data-dir "$WORK/log-$EVENTS" --events "$EVENTS"
for run in 1 2; do
  uptime
  if [ -n "$OTHER" ]; then
    echo "--- run $run: $OTHER rebuild"
    "$OTHER" rebuild --data-dir "$WORK/log-$EVENTS" | head -3
  fi
  echo "--- run $run: rebuild"
  "$BENCH" rebuild --data-dir "$WORK/log-$EVENTS" | head -3
  echo "--- run $run: the fold taking snapshots"
  "$BENCH" as-of --data-dir "$WORK/log-$EVENTS" --instants 0
done
uptime
echo "--- answers"
"$BENCH" as-of --data-dir "$WORK/log-$EVENTS" --instants 200 --full-folds 3
uptime
