#!/usr/bin/env bash
# kvserver beside Redis by number of clients (the data of docs/plots/kvserver-redis.tsv):
# redis-benchmark -t get -c N against each server in turn, for N in $CLIENTS, and prints the
# TSV that `make plots` draws. Skipped, with a hint, when redis-server is not installed.
#
# Environment: CLIENTS (default "1 10 50 200 1000"), REQUESTS per run (default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  echo "sweep-redis: redis-server and redis-benchmark are not installed; skipping." >&2
  exit 0
fi
clients=${CLIENTS:-1 10 50 200 1000}
requests=${REQUESTS:-100000}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
source scripts/demo/lib.bash

go build -o "$work/kvserver" ./kvserver/cmd/kvserver
"$work/kvserver" -port 0 2>"$work/kvserver.log" &
pids+=("$!")
kvup() { grep -q '^kvserver listening on ' "$work/kvserver.log"; }
waitfor 10 "kvserver listening" kvup
kport=$(sed -n 's/^kvserver listening on .*:\([0-9]*\)$/\1/p' "$work/kvserver.log")
rport=$((kport + 1))
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --maxclients 10100 >"$work/redis.log" 2>&1 &
pids+=("$!")
redisup() { grep -q 'Ready to accept connections' "$work/redis.log"; }
waitfor 10 "redis-server ready" redisup

# rps PORT CLIENTS: GET requests per second.
rps() {
  redis-benchmark -p "$1" -c "$2" -n "$requests" -t get -q 2>/dev/null | tr '\r' '\n' |
    awk '/requests per second/ { print $2 }' | tail -1
}
echo "# title: kvserver beside Redis 7 by clients (redis-benchmark -t get, no pipelining)"
echo "# x: clients"
echo "# y: requests/s"
echo "# logx"
echo "# command: bash scripts/sweep-redis.sh   (each count run against kvserver, then Redis)"
printf 'clients\tkvserver\tRedis %s\n' "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
for c in $clients; do
  printf '%s\t%s\t%s\n' "$c" "$(rps "$kport" "$c")" "$(rps "$rport" "$c")"
done
