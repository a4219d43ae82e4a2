#!/usr/bin/env bash
# A three-server NATS JetStream cluster on loopback, for the cluster tests and benchmarks
# (Tools/scripts/cluster-e2e.py) and for trying a three-node desk by hand.
#
#   Tools/scripts/nats-cluster.sh start BASE [--client-ports 4222,4223,4224] [--route-ports 6222,6223,6224]
#                                            [--http-ports 8222,8223,8224]
#   Tools/scripts/nats-cluster.sh stop BASE         # SIGTERM all three (SIGKILL after 10 s); the stores stay
#   Tools/scripts/nats-cluster.sh kill BASE N       # SIGKILL server N (1, 2 or 3)
#   Tools/scripts/nats-cluster.sh restore BASE N    # start server N again on its own store (after kill)
#   Tools/scripts/nats-cluster.sh wait BASE [SECONDS]   # until the running servers name one running meta leader
#   Tools/scripts/nats-cluster.sh status BASE       # one line per server: pid (or "down"), ports, meta leader
#   Tools/scripts/nats-cluster.sh urls BASE         # nats://127.0.0.1:A,nats://127.0.0.1:B,nats://127.0.0.1:C
#
# Each server n1, n2, n3 has its own directory BASE/nK (nats.conf, store/, nats.log, pid); every
# address is 127.0.0.1: clients on the client port, the cluster routes between the three on the
# route ports, monitoring (/varz, /jsz, /healthz) on the HTTP port. `start` writes the
# configuration once (a later `start` or `restore` reuses the ports it holds), starts the servers
# and waits (at most 30 s) until JetStream has a meta leader. Installs Debian's nats-server when it
# is missing (apt-get; as root, or with sudo), as Tools/scripts/ensure-deps.sh does.
set -euo pipefail

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 2 ] || usage
COMMAND=$1
BASE=$2
shift 2
mkdir -p "$BASE"
BASE=$(cd "$BASE" && pwd)

say() { echo "nats-cluster: $*" >&2; }

# Debian installs it in /usr/sbin, which a non-root PATH may lack.
NATS_SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)

ensure_nats_server() {
    [ -x "$NATS_SERVER" ] && return
    say "installing nats-server ..."
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nats-server >/dev/null
    NATS_SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)
    [ -x "$NATS_SERVER" ] || { say "nats-server is still missing"; exit 1; }
}

# The ports of the three servers: BASE/ports holds "CLIENT ROUTE HTTP" per line, one line per server.
port_of() { # port_of N COLUMN (1 client, 2 route, 3 http)
    sed -n "${1}p" "$BASE/ports" | cut -d' ' -f"$2"
}

write_configuration() {
    local clients=$1 routes=$2 https=$3
    IFS=, read -r -a c <<<"$clients"
    IFS=, read -r -a r <<<"$routes"
    IFS=, read -r -a h <<<"$https"
    [ ${#c[@]} -eq 3 ] && [ ${#r[@]} -eq 3 ] && [ ${#h[@]} -eq 3 ] || { say "three ports each, comma separated"; exit 2; }
    : >"$BASE/ports"
    for k in 0 1 2; do echo "${c[$k]} ${r[$k]} ${h[$k]}" >>"$BASE/ports"; done
    for n in 1 2 3; do
        local dir="$BASE/n$n"
        mkdir -p "$dir/store"
        cat >"$dir/nats.conf" <<EOF
# Written by Tools/scripts/nats-cluster.sh: server n$n of three, loopback only.
server_name: n$n
listen: 127.0.0.1:$(port_of "$n" 1)
http: 127.0.0.1:$(port_of "$n" 3)
jetstream {
    store_dir: "$dir/store"
    max_memory_store: 256MB
    max_file_store: 4GB
}
cluster {
    name: ledgerdesk
    listen: 127.0.0.1:$(port_of "$n" 2)
    routes: [
        nats-route://127.0.0.1:$(port_of 1 2)
        nats-route://127.0.0.1:$(port_of 2 2)
        nats-route://127.0.0.1:$(port_of 3 2)
    ]
}
EOF
    done
}

# The pid of server N when it runs (and is a nats-server: a stale pid file is ignored).
running_pid() {
    local file="$BASE/n$1/pid" pid
    [ -f "$file" ] || return 1
    pid=$(cat "$file")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q nats-server || return 1
    echo "$pid"
}

start_one() {
    local n=$1 dir="$BASE/n$1"
    if running_pid "$n" >/dev/null; then
        say "n$n already runs (pid $(running_pid "$n"))"
        return
    fi
    # setsid: the server is not in the caller's process group (a Ctrl-C there is handled by the caller's cleanup).
    setsid "$NATS_SERVER" -c "$dir/nats.conf" >>"$dir/nats.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    # Bounded: the client port answers within 10 s.
    local deadline=$((SECONDS + 10))
    until curl -fsS -m 1 "http://127.0.0.1:$(port_of "$n" 3)/varz" >/dev/null 2>&1; do
        if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
            say "n$n exited at start; last lines of $dir/nats.log:"
            tail -n 20 "$dir/nats.log" >&2
            exit 1
        fi
        [ $SECONDS -lt $deadline ] || { say "n$n does not answer on its monitoring port"; exit 1; }
        sleep 0.1
    done
    say "n$n started (pid $(cat "$dir/pid"), client 127.0.0.1:$(port_of "$n" 1))"
}

meta_leader() { # meta_leader N: the meta leader server N sees (empty when none or down)
    curl -fsS -m 2 "http://127.0.0.1:$(port_of "$1" 3)/jsz" 2>/dev/null |
        python3 -c 'import json,sys; print((json.load(sys.stdin).get("meta_cluster") or {}).get("leader") or "")' 2>/dev/null || true
}

wait_for_leader() {
    local seconds=${1:-30} deadline n ok seen leader
    deadline=$((SECONDS + seconds))
    while :; do
        # Every running server names the same meta leader, and that one runs.
        ok=1 seen=""
        for n in 1 2 3; do
            running_pid "$n" >/dev/null || continue
            leader=$(meta_leader "$n")
            if [ -z "$leader" ] || { [ -n "$seen" ] && [ "$leader" != "$seen" ]; }; then ok=0; fi
            seen=$leader
        done
        [ -z "$seen" ] || running_pid "${seen#n}" >/dev/null 2>&1 || ok=0
        [ $ok -eq 0 ] || return 0
        [ $SECONDS -lt $deadline ] || { say "no JetStream meta leader within ${seconds} s"; return 1; }
        sleep 0.2
    done
}

stop_one() {
    local n=$1 signal=$2 pid
    pid=$(running_pid "$n") || return 0
    kill "-$signal" "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.1
    done
    rm -f "$BASE/n$n/pid"
}

check_n() {
    case "${1:-}" in 1 | 2 | 3) ;; *) say "N is 1, 2 or 3"; exit 2 ;; esac
}

case "$COMMAND" in
start)
    clients=4222,4223,4224
    routes=6222,6223,6224
    https=8222,8223,8224
    while [ $# -gt 0 ]; do
        case "$1" in
        --client-ports) clients=$2; shift 2 ;;
        --route-ports) routes=$2; shift 2 ;;
        --http-ports) https=$2; shift 2 ;;
        *) usage ;;
        esac
    done
    ensure_nats_server
    [ -f "$BASE/ports" ] || write_configuration "$clients" "$routes" "$https"
    for n in 1 2 3; do start_one "$n"; done
    wait_for_leader 30
    say "JetStream meta leader: $(meta_leader 1)"
    ;;
stop)
    [ -f "$BASE/ports" ] || exit 0
    for n in 1 2 3; do stop_one "$n" TERM & done
    wait
    say "stopped"
    ;;
kill)
    check_n "${1:-}"
    stop_one "$1" KILL
    say "n$1 killed"
    ;;
restore)
    check_n "${1:-}"
    ensure_nats_server
    start_one "$1"
    ;;
wait)
    wait_for_leader "${1:-30}"
    ;;
status)
    for n in 1 2 3; do
        pid=$(running_pid "$n" || echo down)
        echo "n$n pid=$pid client=$(port_of "$n" 1) route=$(port_of "$n" 2) http=$(port_of "$n" 3) meta_leader=$(meta_leader "$n")"
    done
    ;;
urls)
    echo "nats://127.0.0.1:$(port_of 1 1),nats://127.0.0.1:$(port_of 2 1),nats://127.0.0.1:$(port_of 3 1)"
    ;;
*)
    usage
    ;;
esac
