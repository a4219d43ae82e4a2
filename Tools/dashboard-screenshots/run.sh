#!/usr/bin/env bash
# Builds supportd and renders every dashboard page to PNG with headless Chromium.
# Usage: Tools/dashboard-screenshots/run.sh OUTPUT_DIR [--timeout SECONDS]
# Scratch path for the build: $SCRATCH (default .build-dashboard).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:?usage: run.sh OUTPUT_DIR [--timeout SECONDS]}"
shift
scratch="${SCRATCH:-.build-dashboard}"
cd "$root"
swift build --product supportd --scratch-path "$scratch"
exec python3 "$here/screenshots.py" "$out" --supportd "$root/$scratch/debug/supportd" "$@"
