#!/usr/bin/env bash
# Checks that every Swift file is formatted as the repository's .swift-format says (swift-format,
# which the toolchain carries as `swift format`). Run by Tools/test.sh, so by CI.
# To format: swift format format --in-place --recursive --parallel Package.swift Sources Projections Tools Tests
set -euo pipefail
cd "$(dirname "$0")/../.."
swift format lint --strict --recursive --parallel Package.swift Sources Projections Tools Tests
