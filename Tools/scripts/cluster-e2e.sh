#!/usr/bin/env bash
# The three-node desk end to end: three nats-server with JetStream clustered on loopback
# (Tools/scripts/nats-cluster.sh; Debian's nats-server installed when missing) and three supportd
# nodes (`--cluster`) under a 32-client write load: leaders SIGKILLed (several rounds), one then two
# nats-servers lost and restored, a leader paused with SIGSTOP past its lease; then every
# acknowledged write is in every node's log, the logs are equal seq by seq, the heads converge and
# `support-replay verify` passes on each node's directory. See Tools/scripts/cluster-e2e.py's
# docstring for the checks. Loopback only, bounded (the whole run under 10 minutes).
#
#   Tools/scripts/cluster-e2e.sh                       # against .build/debug/supportd and support-replay (built when missing)
#   Tools/scripts/cluster-e2e.sh --only leader-kill    # one scenario (basics, leader-kill, nats-quorum, stale-leader; stream-loss only so)
#   Tools/scripts/cluster-e2e.sh --bench               # also single node vs cluster under steady load (docs/benchmarks.md)
#   CLUSTER_E2E_KEEP=1 Tools/scripts/cluster-e2e.sh    # keep the data directories, stores and logs
#
# Prints one line per step and the figures, and ends with `cluster-e2e: N passed, M failed`;
# exits 1 when a step failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUPPORTD=${SUPPORTD:-.build/debug/supportd}
REPLAY=${REPLAY:-.build/debug/support-replay}
if [ ! -x "$SUPPORTD" ] || [ ! -x "$REPLAY" ]; then
    echo "cluster-e2e: building supportd and support-replay ..." >&2
    swift build --product supportd >&2
    swift build --product support-replay >&2
fi
if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
    echo "cluster-e2e: installing nats-server ..." >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server >/dev/null
fi
KEEP=()
[ -z "${CLUSTER_E2E_KEEP:-}" ] || KEEP=(--keep)
exec python3 Tools/scripts/cluster-e2e.py --supportd "$SUPPORTD" --replay "$REPLAY" "${KEEP[@]}" "$@"
