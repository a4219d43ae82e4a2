#!/usr/bin/env bash
# Issue 11: the event log against PostgreSQL (Debian's, default durability) and raw LMDB, side by
# side in one run on this machine. Installs PostgreSQL when missing, runs a private cluster in a
# temporary directory on the same disk as the logs (127.0.0.1, a free port), stops it and removes
# everything at the end. Every load is bounded in time or size. Prints the figures and a Markdown
# table (figure, peer, ratio) for docs/benchmarks.md.
#
# Usage: Tools/bench/log-vs-postgres.sh            (the full run, about 7 minutes here)
#        BENCH_SECONDS=3 BENCH_ROUNDS=1 BENCH_EVENTS=100000 BENCH_REBUILD_EVENTS=100000 Tools/bench/log-vs-postgres.sh
#
# Sizes (environment):
#   BENCH_SECONDS=10          seconds per concurrent-append run (log and pgbench alike)
#   BENCH_ROUNDS=3            rounds of the appends and of the imports (the table shows medians)
#   BENCH_CLIENTS=64          concurrent writers (tasks in process; pgbench clients over TCP)
#   BENCH_STREAMS=10000       streams the concurrent appends spread over
#   BENCH_EVENTS=1000000      batched append: events (BENCH_BATCH per commit, BENCH_BATCH_STREAMS streams)
#   BENCH_BATCH=1000  BENCH_BATCH_STREAMS=100000
#   BENCH_REBUILD_EVENTS=1000000   generated log for the full rebuild and the cursor walk
#   BENCH_IMPORT=FILE         NDJSON to import; default: the ServiceNow incident log from
#                             ../shared/data converted by import-servicenow-csv.py, or, without
#                             ../shared (a CI clone), a generated file (generate-import.py)
#   BENCH_SKIP=LIST           any of: append,import,batched,rebuild (comma-separated)
#   BENCH_ONLY=LIST           the same, naming what runs (BENCH_ONLY=import: the import part alone)
#   BENCH_IMPORT_BASELINE=BIN another support-replay (an older build) timed on the same file in the
#                             same rounds, after the current one: its own column and ratio
#   BENCH_NO_BUILD=1          use the release binaries already in .build/release (BENCH_BIN: another folder)
#   BENCH_PEER_BIN=DIR        also run DIR/eventlog-bench group-commit in each append round, right
#                             after the log's own run (an older build, to compare in the same run)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECS=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-64}
STREAMS=${BENCH_STREAMS:-10000}
EVENTS=${BENCH_EVENTS:-1000000}
BATCH=${BENCH_BATCH:-1000}
BATCH_STREAMS=${BENCH_BATCH_STREAMS:-100000}
REBUILD_EVENTS=${BENCH_REBUILD_EVENTS:-1000000}
SKIP=${BENCH_SKIP:-}
ROUNDS=${BENCH_ROUNDS:-3}
BIN=${BENCH_BIN:-$ROOT/.build/release}
ONLY=${BENCH_ONLY:-}
BASELINE=${BENCH_IMPORT_BASELINE:-}
skip() {
  if [[ -n "$ONLY" ]]; then [[ ",$ONLY," != *",$1,"* ]]; else [[ ",$SKIP," == *",$1,"* ]]; fi
}

# --- tools ------------------------------------------------------------------------------------
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v pgbench >/dev/null; then
  echo "== installing Debian's postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null
fi
PGBIN=$(dirname "$(printf "%s\n" /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
PGVERSION=$("$PGBIN/postgres" --version | awk '{print $3}')
if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
  echo "== swift build -c release (eventlog-bench, support-replay, projection-bench)"
  # One product per call: given several --product options, swift build builds only the last.
  for product in eventlog-bench support-replay projection-bench; do
    swift build -c release --product "$product" 2>&1 | tail -1
  done
fi

# --- a private cluster ------------------------------------------------------------------------
WORK=$(mktemp -d "$ROOT/.bench-pg-XXXX")
PGDATA=$WORK/pgdata
PGSOCK=$WORK/socket
cleanup() {
  if [[ -f "$PGDATA/postmaster.pid" ]]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# PostgreSQL refuses to run as root: the cluster belongs to the postgres user (Debian's package
# creates it), or to the current user when that is not root.
if [[ $(id -u) -eq 0 ]]; then PGUSER_OS=postgres; else PGUSER_OS=$(id -un); fi
mkdir -p "$PGDATA" "$PGSOCK"
chown -R "$PGUSER_OS" "$WORK"
chmod 755 "$WORK"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi; }
as_pg "$PGBIN/initdb" -D "$PGDATA" -U bench --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# Default durability: fsync on, synchronous_commit on, full_page_writes on (nothing is changed
# but where it listens).
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/postgres.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$PGSOCK -c max_connections=$((CLIENTS + 20))" start >/dev/null
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=bench PGDATABASE=postgres
psql -qtA -c "show fsync" | grep -qx on
psql -qtA -c "show synchronous_commit" | grep -qx on
TABLE="create table events(position bigserial primary key, stream_id text not null, version bigint not null,
  type text not null, data jsonb not null, unique(stream_id, version))"
fresh_table() { PGOPTIONS="-c client_min_messages=warning" psql -q -c "drop table if exists events" -c "$TABLE" >/dev/null; }

# --- helpers ----------------------------------------------------------------------------------
DEVICE=$(basename "$(df --output=source "$ROOT" | tail -1)")
sectors_written() { awk -v d="$DEVICE" '$3 == d { print $10 }' /proc/diskstats; }
quiesce() { sync; sleep 2; }
now() { date +%s.%N; }
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.2f}x' if b else 'n/a')" "$1" "$2"; }
fmt() { python3 -c "import sys; print(f'{float(sys.argv[1]):,.0f}')" "$1"; }
median() { python3 -c "import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
ms() { python3 -c "import sys; print(f'{float(sys.argv[1]) / 1000:.1f}')" "$1"; }
# The disk's flush latency right now: 200 synchronous 4 kB writes (what each durable commit waits for).
flush_ms() {
  local t0 t1
  t0=$(now)
  dd if=/dev/zero of="$WORK/dsync.test" bs=4k count=200 oflag=dsync 2>/dev/null
  t1=$(now)
  rm -f "$WORK/dsync.test"
  python3 -c "print(f'{($t1 - $t0) / 200 * 1000:.2f}')"
}
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }
LOADS=()
load() { LOADS+=("$1: $(cut -d' ' -f1-3 /proc/loadavg), flush $(flush_ms) ms"); }

echo "== machine: disk flush (dd oflag=dsync, 4 kB) $(flush_ms) ms, $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), PostgreSQL $PGVERSION on port $PORT, data on $DEVICE"
load start

# --- 1. durable single-event appends from concurrent writers ----------------------------------
if ! skip append; then
  echo "== 1. durable single-event appends, $CLIENTS writers, $SECS s each, $ROUNDS rounds (the log, then pgbench)"
  # One INSERT per transaction. Each client owns the streams whose number is its client id modulo
  # the client count (about STREAMS in all) and picks one at random; the version is read from the
  # unique (stream_id, version) index like the log's version check, so the insert is real and
  # never conflicts (one client per stream, one transaction at a time per client).
  cat >"$WORK/insert.sql" <<SQL
\set r random(0, $((STREAMS / CLIENTS - 1)))
\set s :client_id + $CLIENTS * :r
insert into events(stream_id, version, type, data)
  select 'T-' || (:s)::text, coalesce(max(version), 0) + 1, 'event.recorded',
    '{"actor": {"kind": "agent", "id": "agent-7"}, "attachments": [], "body": "Hello, your VPS was restarted and the disk check is done. Please confirm the site answers again; ticket reply 123456 from the support desk, with a longer paragraph of text."}'::jsonb
  from events where stream_id = 'T-' || (:s)::text;
SQL
  LOG_RATES=() LOG_P99S=() PG_RATES=() PG_P99S=() RATIOS=() PEER_RATES=() PEER_P99S=()
  for round in $(seq 1 "$ROUNDS"); do
    echo "-- round $round"
    quiesce
    LOG_OUT=$(cd "$WORK" && "$BIN/eventlog-bench" group-commit --tasks "$CLIENTS" --seconds "$SECS" --streams "$STREAMS")
    echo "$LOG_OUT"
    LOG_RATE=$(echo "$LOG_OUT" | awk '/events\/s,/ {print $1}')
    LOG_P99=$(echo "$LOG_OUT" | sed -n 's/.*p99 \([0-9]*\) µs.*/\1/p')
    if [[ -n "${BENCH_PEER_BIN:-}" ]]; then
      quiesce
      PEER_OUT=$(cd "$WORK" && "$BENCH_PEER_BIN/eventlog-bench" group-commit --tasks "$CLIENTS" --seconds "$SECS" --streams "$STREAMS")
      echo "  peer build ($BENCH_PEER_BIN):"
      echo "$PEER_OUT"
      PEER_RATES+=("$(echo "$PEER_OUT" | awk '/events\/s,/ {print $1}')")
      PEER_P99S+=("$(echo "$PEER_OUT" | sed -n 's/.*p99 \([0-9]*\) µs.*/\1/p')")
    fi
    fresh_table
    quiesce
    PG_OUT=$(cd "$WORK" && pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$SECS" -f "$WORK/insert.sql" --log --log-prefix="$WORK/pgbench_log" postgres 2>&1)
    echo "$PG_OUT" | grep -E "^(number of transactions actually processed|number of failed|latency average|tps)"
    PG_TPS=$(echo "$PG_OUT" | awk '/^tps =/ {print $3}')
    # p99 from the per-transaction log (third field: latency in µs).
    PG_P99=$(cat "$WORK"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR] = $1} END {print a[int(NR * 0.99)]}')
    PG_ROWS=$(psql -qtA -c "select count(*) from events")
    echo "  pgbench p99 $PG_P99 µs (from --log), $PG_ROWS rows; ratio $(ratio "$LOG_RATE" "$PG_TPS")"
    rm -f "$WORK"/pgbench_log.*
    LOG_RATES+=("$LOG_RATE") LOG_P99S+=("$LOG_P99") PG_RATES+=("$PG_TPS") PG_P99S+=("$PG_P99")
    RATIOS+=("$(ratio "$LOG_RATE" "$PG_TPS")")
    load "after append round $round"
  done
  LOG_RATE=$(median "${LOG_RATES[@]}") LOG_P99=$(median "${LOG_P99S[@]}")
  PG_TPS=$(median "${PG_RATES[@]}") PG_P99=$(median "${PG_P99S[@]}")
  row "durable single-event appends, $CLIENTS concurrent writers ($SECS s; log in process, pgbench over TCP loopback; medians of $ROUNDS rounds)" \
    "$(fmt "$LOG_RATE") events/s, p99 $(ms "$LOG_P99") ms" \
    "PostgreSQL $PGVERSION: $(fmt "$PG_TPS") tps (one INSERT each), p99 $(ms "$PG_P99") ms" \
    "$(ratio "$LOG_RATE" "$PG_TPS") (rounds: ${RATIOS[*]})"
  if [[ -n "${BENCH_PEER_BIN:-}" ]]; then
    PEER_RATE=$(median "${PEER_RATES[@]}") PEER_P99=$(median "${PEER_P99S[@]}")
    row "the same appends, peer build \`$BENCH_PEER_BIN\` (medians of $ROUNDS rounds, each right after the log's run)" \
      "$(fmt "$PEER_RATE") events/s, p99 $(ms "$PEER_P99") ms" \
      "PostgreSQL $PGVERSION: $(fmt "$PG_TPS") tps" \
      "$(ratio "$PEER_RATE" "$PG_TPS"); this build / peer: $(ratio "$LOG_RATE" "$PEER_RATE")"
  fi
fi

# --- 2. import of a real log --------------------------------------------------------------------
if ! skip import; then
  IMPORT=${BENCH_IMPORT:-}
  SHARED=${SHARED:-$ROOT/../shared}
  SOURCE="BENCH_IMPORT"
  if [[ -z "$IMPORT" ]]; then
    IMPORT=$WORK/import.ndjson
    if [[ -f "$SHARED/data/uci-servicenow-incident-event-log/incident_event_log.csv.gz" ]]; then
      SOURCE="the ServiceNow incident log (shared/data, converted)"
      python3 Tools/bench/import-servicenow-csv.py "$SHARED/data/uci-servicenow-incident-event-log/incident_event_log.csv.gz" >"$IMPORT"
    else
      SOURCE="a generated file (no shared/data here)"
      python3 Tools/bench/generate-import.py --megabytes 50 --tickets 10000 >"$IMPORT"
    fi
  fi
  LINES=$(wc -l <"$IMPORT")
  echo "== 2. import of $LINES events from $SOURCE, $ROUNDS rounds"
  # The same events as CSV rows (stream_id, version, type, data = {at, actor, data}); only the copy is timed.
  python3 - "$IMPORT" "$WORK/import.csv" <<'PY'
import csv, json, sys
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", newline="", encoding="utf-8") as dst:
    out = csv.writer(dst)
    for line in src:
        e = json.loads(line)
        out.writerow([e["ticket"], e["version"], e["type"],
                      json.dumps({"at": e["at"], "actor": e["actor"], "data": e["data"]}, ensure_ascii=False, separators=(",", ":"))])
PY
  LOG_TIMES=() PG_TIMES=() RATIOS=() BASE_TIMES=() BASE_RATIOS=()
  for round in $(seq 1 "$ROUNDS"); do
    echo "-- round $round"
    quiesce
    START=$(now)
    "$BIN/support-replay" import --data-dir "$WORK/import-log" "$IMPORT"
    LOG_SECONDS=$(python3 -c "print($(now) - $START)")
    rm -rf "$WORK/import-log"
    if [[ -n "$BASELINE" ]]; then
      quiesce
      START=$(now)
      "$BASELINE" import --data-dir "$WORK/import-log" "$IMPORT"
      BASE_SECONDS=$(python3 -c "print($(now) - $START)")
      rm -rf "$WORK/import-log"
      BASE_TIMES+=("$BASE_SECONDS") BASE_RATIOS+=("$(ratio "$BASE_SECONDS" "$LOG_SECONDS")")
      printf "  baseline import:       %.2f s, %s events/s\n" "$BASE_SECONDS" "$(fmt "$(python3 -c "print($LINES / $BASE_SECONDS)")")"
    fi
    fresh_table
    quiesce
    START=$(now)
    psql -q -c "\\copy events(stream_id, version, type, data) from '$WORK/import.csv' with (format csv)"
    PG_SECONDS=$(python3 -c "print($(now) - $START)")
    PG_ROWS=$(psql -qtA -c "select count(*) from events")
    [[ "$PG_ROWS" -eq "$LINES" ]] || { echo "copy loaded $PG_ROWS rows of $LINES" >&2; exit 1; }
    printf "  support-replay import: %.2f s, %s events/s\n  psql \\\\copy:           %.2f s, %s events/s\n" \
      "$LOG_SECONDS" "$(fmt "$(python3 -c "print($LINES / $LOG_SECONDS)")")" "$PG_SECONDS" "$(fmt "$(python3 -c "print($LINES / $PG_SECONDS)")")"
    LOG_TIMES+=("$LOG_SECONDS") PG_TIMES+=("$PG_SECONDS") RATIOS+=("$(ratio "$PG_SECONDS" "$LOG_SECONDS")")
    load "after import round $round"
  done
  LOG_SECONDS=$(median "${LOG_TIMES[@]}") PG_SECONDS=$(median "${PG_TIMES[@]}")
  LOG_RATE=$(python3 -c "print($LINES / $LOG_SECONDS)")
  PG_RATE=$(python3 -c "print($LINES / $PG_SECONDS)")
  row "import of $(fmt "$LINES") events, $SOURCE (\`support-replay import\` vs \`\\copy\`; medians of $ROUNDS rounds)" \
    "$(fmt "$LOG_RATE") events/s ($(printf %.2f "$LOG_SECONDS") s)" \
    "PostgreSQL $PGVERSION \`\\copy\`: $(fmt "$PG_RATE") events/s ($(printf %.2f "$PG_SECONDS") s)" \
    "$(ratio "$LOG_RATE" "$PG_RATE") (rounds: ${RATIOS[*]})"
  if [[ -n "$BASELINE" ]]; then
    BASE_SECONDS=$(median "${BASE_TIMES[@]}")
    BASE_RATE=$(python3 -c "print($LINES / $BASE_SECONDS)")
    row "" "" "baseline \`$BASELINE\` (same rounds): $(fmt "$BASE_RATE") events/s ($(printf %.2f "$BASE_SECONDS") s)" \
      "current/baseline $(ratio "$LOG_RATE" "$BASE_RATE") (rounds, each in its round: ${BASE_RATIOS[*]}); baseline/\`\\copy\` $(ratio "$BASE_RATE" "$PG_RATE")"
  fi
  rm -f "$WORK/import.csv"
fi
# PostgreSQL is not needed past this point.
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
rm -rf "$PGDATA"

# --- 3. batched append against raw LMDB ---------------------------------------------------------
if ! skip batched; then
  echo "== 3. batched append, $EVENTS events, $BATCH per commit, $BATCH_STREAMS streams"
  BEFORE=$(sectors_written)
  BATCH_OUT=$(cd "$WORK" && "$BIN/eventlog-bench" batched-append --events "$EVENTS" --batch "$BATCH" --streams "$BATCH_STREAMS")
  AFTER=$(sectors_written)
  echo "$BATCH_OUT"
  echo "  $DEVICE: $(python3 -c "print(f'{($AFTER - $BEFORE) * 512 / 1e9:.1f}')") GB written in all (the three runs and the copy between them; other processes included)"
  load "after the batched appends"
  LOG_RATE=$(echo "$BATCH_OUT" | awk '/event log:/ {print $3}')
  RAW_RATE=$(echo "$BATCH_OUT" | awk '/raw LMDB, log keys:/ {print $5}')
  SEQ_RATE=$(echo "$BATCH_OUT" | awk '/raw LMDB, sequential index:/ {print $5}')
  # Bytes written: the process's write_bytes (it counts each page-cache folio dirtied at its full
  # size) and the device's sectors written (what reached the disk) during each side's run.
  written() { echo "$BATCH_OUT" | grep "$1" | sed -n 's/.*; \([0-9.]*\) GB written by the process, \([0-9.]*\) GB by the device.*/\2 GB on the device, write_bytes \1 GB/p'; }
  row "batched append, $(fmt "$EVENTS") events, $BATCH per commit, $(fmt "$BATCH_STREAMS") streams (bytes written during each run)" \
    "$(fmt "$LOG_RATE") events/s ($(written 'event log:'))" \
    "raw LMDB, the log's own index entries: $(fmt "$RAW_RATE") events/s ($(written 'raw LMDB, log keys:'))" "$(ratio "$LOG_RATE" "$RAW_RATE")"
  row "" "" "raw LMDB, sequential stream index + version check: $(fmt "$SEQ_RATE") events/s ($(written 'raw LMDB, sequential index:'))" \
    "$(ratio "$LOG_RATE" "$SEQ_RATE") (target 0.50x)"
fi

# --- 4. full rebuild and the raw cursor walk ----------------------------------------------------
if ! skip rebuild; then
  echo "== 4. full rebuild of every projection, $REBUILD_EVENTS generated events"
  "$BIN/projection-bench" generate --data-dir "$WORK/rebuild" --events "$REBUILD_EVENTS"
  quiesce
  REBUILD_OUT=$("$BIN/projection-bench" rebuild --data-dir "$WORK/rebuild")
  echo "$REBUILD_OUT"
  SCAN_OUT=$("$BIN/eventlog-bench" scan --data-dir "$WORK/rebuild")
  echo "$SCAN_OUT"
  load "after the rebuild"
  REBUILD_RATE=$(echo "$REBUILD_OUT" | sed -n 's/^rebuild: .* = \([0-9]*\) events\/s.*/\1/p')
  WALK_RATE=$(echo "$SCAN_OUT" | awk '/raw cursor walk:/ {print $4}')
  DECODE_RATE=$(echo "$SCAN_OUT" | awk '/decoded events:/ {print $3}')
  row "full rebuild of every projection, $(fmt "$REBUILD_EVENTS") generated events (\`projection-bench rebuild\`)" \
    "$(fmt "$REBUILD_RATE") events/s" \
    "raw LMDB cursor walk of the same log: $(fmt "$WALK_RATE") events/s; decoded scan $(fmt "$DECODE_RATE") events/s" \
    "$(ratio "$REBUILD_RATE" "$WALK_RATE") of the walk"
  rm -rf "$WORK/rebuild"
fi
load end

echo
echo "| work | Ledgerdesk | peer (same run) | ratio |"
echo "| --- | --- | --- | --- |"
for r in "${ROWS[@]}"; do echo "$r"; done
echo
echo "Load (1, 5, 15 min) and the disk's flush latency (dd bs=4k oflag=dsync):"
for l in "${LOADS[@]}"; do echo "- $l"; done
