#!/usr/bin/env bash
# The project tour: runs every part under scripts/demo/ in order. Each part starts what it needs
# on loopback (free ports), shows its system working, and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
export DS440_DEMO_BIN="$(mktemp -d)"
trap 'rm -rf "$DS440_DEMO_BIN"' EXIT
start=$(date +%s)
for part in scripts/demo/*.sh; do
  [ -e "$part" ] || continue
  name=$(basename "$part" .sh)
  printf '\n=== %s ===\n' "${name#*-}"
  bash "$part"
done
printf '\n=== demo finished in %ss ===\n' "$(( $(date +%s) - start ))"
