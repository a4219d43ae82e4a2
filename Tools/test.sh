#!/usr/bin/env bash
# The whole test suite: installs liblmdb-dev when missing, checks the module graph against
# docs/architecture.md, the public surface (only the library products' documented API is public)
# and the formatting against .swift-format, builds everything (the crash tests start the built
# tools), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/scripts/ensure-deps.sh
python3 Tools/scripts/check-architecture.py
python3 Tools/scripts/public-surface.py --check
Tools/scripts/check-format.sh
swift build --build-tests
swift test --skip-build "$@"
