#!/usr/bin/env bash
# Builds and runs supportd on an embedded default: ./data as the data directory, filled with the
# seeded demo workload on first start; prints the URL and the tokens file with fresh tokens.
# Extra arguments go to supportd (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/scripts/ensure-deps.sh
swift build -c release --product supportd
exec .build/release/supportd --data-dir ./data --demo "$@"
