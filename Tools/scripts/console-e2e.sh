#!/usr/bin/env bash
# The agent console end to end, in headless Chromium (Debian's chromium and chromium-driver,
# Selenium 4 from PyPI).
#
#   Tools/scripts/console-e2e.sh
#   CONSOLE_E2E_SCREENSHOTS=docs/console Tools/scripts/console-e2e.sh   # where the PNGs go
#
# Installs what is missing (as root: `apt-get update`, then chromium and chromium-driver; the
# Python package selenium with pip, as mail-e2e.sh does for aiosmtpd), builds supportd when
# .build/debug/supportd is missing, starts it on 127.0.0.1 at a free port with a temporary data
# directory and --demo (three weeks of the demo desk; its tokens file names amelie and bruno,
# agents, and audrey, auditor), and runs Tools/scripts/console-e2e.py against it: sign-in (an
# auditor refused), My queue, Take next, a reply with a status, a note, the If-Match case from a
# stale tab, the hand-off to bruno found in his queue, Find by id and by customer, sign-in and
# Take next with JavaScript off, and the ticket's history read back from the API (exactly the
# events the API would have appended). Desktop (1280x800) and phone (390x844) screenshots of My
# queue, the ticket, the hand-off and the find page go to $CONSOLE_E2E_SCREENSHOTS (default
# .build/console-e2e/), with a check that no page is wider than the phone. supportd is stopped
# with SIGTERM at exit and must exit 0; the data directory is removed (kept with
# CONSOLE_E2E_KEEP=1, with supportd's log in <dir>/supportd.log).
#
# Prints one line per step and ends with `console-e2e: N passed, M failed`; exits 1 when a step
# failed (the failing page's screenshot and source are saved beside the screenshots).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

PASSED=0
step() { PASSED=$((PASSED + 1)); echo "console-e2e: ok $PASSED - $*"; }
fail() {
    echo "console-e2e: FAILED - $*" >&2
    if [ -n "${WORK:-}" ] && [ -f "$WORK/supportd.log" ]; then
        echo "--- last lines of supportd's log" >&2
        tail -n 30 "$WORK/supportd.log" >&2 || true
    fi
    echo "console-e2e: $PASSED passed, 1 failed"
    exit 1
}

# --- What the test needs -------------------------------------------------------------------------
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
install_missing() {
    local packages=()
    [ -x /usr/bin/chromium ] || packages+=(chromium)
    [ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
    if [ ${#packages[@]} -gt 0 ]; then
        echo "console-e2e: installing ${packages[*]} ..." >&2
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
    fi
    if ! python3 -c 'import selenium.webdriver' 2>/dev/null; then
        echo "console-e2e: installing selenium ..." >&2
        if ! python3 -m pip --version >/dev/null 2>&1; then
            $SUDO apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
        fi
        python3 -m pip install -q selenium >&2 || python3 -m pip install -q --break-system-packages selenium >&2
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for DESCRIPTION SECONDS COMMAND...: runs COMMAND every half second until it succeeds.
wait_for() {
    local what=$1 seconds=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || fail "$what: not within ${seconds} s"
        [ -z "${SUPPORTD_PID:-}" ] || kill -0 "$SUPPORTD_PID" 2>/dev/null || fail "$what: supportd exited"
        sleep 0.5
    done
}

install_missing
step "$(/usr/bin/chromium --version 2>/dev/null | head -n 1), $(/usr/bin/chromedriver --version | cut -d' ' -f1-2), selenium $(python3 -c 'import selenium; print(selenium.__version__)')"

SUPPORTD=$ROOT/.build/debug/supportd
if [ ! -x "$SUPPORTD" ]; then
    echo "console-e2e: building supportd ..." >&2
    swift build --product supportd >&2 || fail "swift build --product supportd"
fi

# --- supportd with the demo desk -----------------------------------------------------------------
WORK=$(mktemp -d /tmp/console-e2e.XXXXXX)
SUPPORTD_PID=""
cleanup() {
    set +e
    if [ -n "$SUPPORTD_PID" ]; then
        kill -TERM "$SUPPORTD_PID" 2>/dev/null
        wait "$SUPPORTD_PID" 2>/dev/null
    fi
    if [ "${CONSOLE_E2E_KEEP:-0}" = 1 ]; then echo "console-e2e: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
"$SUPPORTD" --data-dir "$WORK/data" --host 127.0.0.1 --port "$PORT" --demo >"$WORK/supportd.log" 2>&1 &
SUPPORTD_PID=$!
# The tokens file is written once the demo is loaded, before the server listens.
answers() {
    python3 - "$BASE" "$WORK/data/tokens.json" <<'EOF' 2>/dev/null
import json, sys, urllib.request
tokens = {t["id"]: t["token"] for t in json.load(open(sys.argv[2]))["tokens"]}
request = urllib.request.Request(sys.argv[1] + "/v1/queues", headers={"Authorization": "Bearer " + tokens["amelie"]})
urllib.request.urlopen(request, timeout=5).read()
EOF
}
wait_for "supportd --demo answers on $BASE" 180 answers
step "supportd --demo listens on $BASE ($(grep -c '^  [a-z]' "$WORK/supportd.log") demo tokens)"

# --- The browser run -----------------------------------------------------------------------------
SHOTS=${CONSOLE_E2E_SCREENSHOTS:-$ROOT/.build/console-e2e}
mkdir -p "$SHOTS"
rm -f "$SHOTS"/failed-*.png "$SHOTS"/failed-*.html
set +e
python3 Tools/scripts/console-e2e.py --base "$BASE" --tokens "$WORK/data/tokens.json" --screenshots "$SHOTS" \
    --first "$PASSED" --counts "$WORK/counts"
DRIVER=$?
set -e
read -r DRIVER_PASSED DRIVER_FAILED NUMBER <"$WORK/counts" || { DRIVER_PASSED=0; DRIVER_FAILED=1; NUMBER=$PASSED; }
PASSED=$((PASSED + DRIVER_PASSED))
FAILED=$DRIVER_FAILED
[ "$DRIVER" -eq 0 ] || [ "$FAILED" -gt 0 ] || FAILED=1

# --- supportd stops cleanly ----------------------------------------------------------------------
kill -TERM "$SUPPORTD_PID"
set +e
wait "$SUPPORTD_PID"
STATUS=$?
set -e
SUPPORTD_PID=""
NUMBER=$((NUMBER + 1))
if [ "$STATUS" -eq 0 ]; then
    PASSED=$((PASSED + 1))
    echo "console-e2e: ok $NUMBER - supportd stops on SIGTERM with status 0"
else
    FAILED=$((FAILED + 1))
    echo "console-e2e: FAILED $NUMBER - supportd stopped with status $STATUS"
    tail -n 30 "$WORK/supportd.log" >&2 || true
fi
echo "console-e2e: screenshots in $SHOTS" >&2
echo "console-e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
