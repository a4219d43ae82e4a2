#!/usr/bin/env bash
# Full rebuild of the projections from an LMDB log, next to its peers in the same run: a walk of
# the stored records, a decoded scan, the fold of decoded events (the path before issue 11) and,
# when given, another tree's projection-bench on a log its own generator writes.
# Usage: Tools/bench/rebuild.sh EVENTS WORKDIR [OTHER_PROJECTION_BENCH]
# (logs are kept in WORKDIR and reused: 10 M events take about 3 GB and 3 minutes to write)
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS=${1:?events}
WORK=${2:?work directory}
OTHER=${3:-}
swift build -c release --product projection-bench >/dev/null
BENCH=.build/release/projection-bench
mkdir -p "$WORK"
[ -d "$WORK/log-$EVENTS" ] || "$BENCH" generate --data-dir "$WORK/log-$EVENTS" --events "$EVENTS"
if [ -n "$OTHER" ]; then
  [ -d "$WORK/other-log-$EVENTS" ] || "$OTHER" generate --data-dir "$WORK/other-log-$EVENTS" --events "$EVENTS"
fi
for run in 1 2; do
  echo "--- run $run: walk, decoded scan, rebuild"
  "$BENCH" rebuild --walk --data-dir "$WORK/log-$EVENTS" | head -5
  echo "--- run $run: fold of decoded events"
  "$BENCH" rebuild --decoded --data-dir "$WORK/log-$EVENTS" | head -3
  if [ -n "$OTHER" ]; then
    echo "--- run $run: $OTHER on its own log"
    "$OTHER" rebuild --data-dir "$WORK/other-log-$EVENTS" | head -2
  fi
  uptime
done
