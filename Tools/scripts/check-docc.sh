#!/usr/bin/env bash
# Builds the DocC documentation of every module with a catalog from the debug build's modules
# (no rebuild: `swift build` first) and prints DocC's warnings; exits 1 when there is one.
# The symbol graphs hold the public surface only, as a user of the library products sees it.
set -euo pipefail
cd "$(dirname "$0")/.."/..
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
triple=$(swift -print-target-info | python3 -c 'import json, sys; print(json.load(sys.stdin)["target"]["unversionedTriple"])')
build=.build/$triple/debug
includes=(-I "$build/Modules" -I Sources/CLMDB)
while IFS= read -r dir; do includes+=(-I "$dir"); done < <(find .build/checkouts -name module.modulemap -exec dirname {} \; | sort -u)
while IFS= read -r map; do includes+=(-Xcc "-fmodule-map-file=$map"); done < <(find "$build" -maxdepth 2 -name module.modulemap)
warnings=0
for catalog in Sources/*/*.docc Projections/*.docc; do
    module=$(basename "$catalog" .docc)
    mkdir -p "$out/$module"
    swift symbolgraph-extract -module-name "$module" "${includes[@]}" -target "$triple" \
        -minimum-access-level public -output-dir "$out/$module"
    found=$(docc convert "$catalog" --additional-symbol-graph-dir "$out/$module" --fallback-display-name "$module" \
        --fallback-bundle-identifier "$module" --output-path "$out/$module.doccarchive" --analyze 2>&1 |
        grep -E 'warning|error' || true)
    if [ -n "$found" ]; then
        echo "$module:"
        echo "$found"
        warnings=1
    else
        echo "$module: no DocC warning"
    fi
done
exit $warnings
