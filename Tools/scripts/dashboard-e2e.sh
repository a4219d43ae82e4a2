#!/usr/bin/env bash
# The management dashboard end to end, in headless Chromium (Debian's chromium and
# chromium-driver, Selenium 4 from PyPI), as Tools/scripts/console-e2e.sh does for the console.
#
#   Tools/scripts/dashboard-e2e.sh
#   DASHBOARD_E2E_SCREENSHOTS=docs/dashboard Tools/scripts/dashboard-e2e.sh   # where the PNGs go
#
# Builds supportd when .build/debug/supportd is missing and runs
# Tools/dashboard-screenshots/screenshots.py against it (supportd --demo on a free loopback port,
# a fresh data directory): sign-in through the form, every chart page, a click on an SLA
# compliance bar listing the tickets behind it (breached first), a click on a ticket of that
# list showing its clocks explained, and the What if page (the form prefilled, a result with
# both policies, a mistake shown with the form again), each at 1280x800 and 390x844 (and full
# page), then a CSV download and signing out. No page may carry a script. Installs chromium,
# chromium-driver and selenium when missing (screenshots.py). Ends with
# `dashboard-e2e: passed` or exits 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SUPPORTD=$ROOT/.build/debug/supportd
if [ ! -x "$SUPPORTD" ]; then
    echo "dashboard-e2e: building supportd ..." >&2
    swift build --product supportd >&2
fi
SHOTS=${DASHBOARD_E2E_SCREENSHOTS:-$ROOT/.build/dashboard-e2e}
if python3 Tools/dashboard-screenshots/screenshots.py "$SHOTS" --supportd "$SUPPORTD" --timeout 600; then
    echo "dashboard-e2e: screenshots in $SHOTS" >&2
    echo "dashboard-e2e: passed"
else
    echo "dashboard-e2e: FAILED (screenshots so far in $SHOTS)" >&2
    exit 1
fi
