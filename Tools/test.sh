#!/usr/bin/env bash
# The whole test suite: installs liblmdb-dev when missing, builds everything (the crash tests
# start the built tools), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/scripts/ensure-deps.sh
swift build --build-tests
swift test --skip-build "$@"
