#!/usr/bin/env bash
# Signed webhooks end to end: the built supportd as a child process on loopback, a receiver in
# Python (Tools/scripts/webhook-e2e.py, standard library only) that verifies every signature and
# records every delivery; a SIGKILL of supportd while a delivery is held, a restart on the same
# data directory, retries after 500s, a slow endpoint. See the script's docstring for the checks.
#
#   Tools/scripts/webhook-e2e.sh            # against .build/debug/supportd (built when missing)
#   WEBHOOK_E2E_KEEP=1 Tools/scripts/webhook-e2e.sh   # keep the data directories and supportd's logs
#
# Prints one line per step and ends with `webhook-e2e: N passed, M failed`; exits 1 when a step failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUPPORTD=${SUPPORTD:-.build/debug/supportd}
if [ ! -x "$SUPPORTD" ]; then
    echo "webhook-e2e: building supportd ..." >&2
    swift build --product supportd >&2
fi
KEEP=()
[ -z "${WEBHOOK_E2E_KEEP:-}" ] || KEEP=(--keep)
exec python3 Tools/scripts/webhook-e2e.py --supportd "$SUPPORTD" "${KEEP[@]}"
