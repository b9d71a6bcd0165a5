#!/usr/bin/env bash
# Runs every Fuzz target of the module for FUZZTIME each (one at a time: go test -fuzz takes one).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
found=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    found=1
    echo "--- fuzz $pkg $target ($FUZZTIME)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
  done
done
[ "$found" = 1 ] || echo "no fuzz targets yet"
