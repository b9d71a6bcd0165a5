#!/usr/bin/env bash
# kvserver beside Redis by number of clients (the data of docs/plots/kvserver-redis.tsv):
# redis-benchmark -t get -c N against each server in turn, for N in $CLIENTS, and prints the
# TSV that `make plots` draws. Skipped, with a hint, when redis-server is not installed.
#
# Environment: CLIENTS (default "1 10 50 200 1000"), REQUESTS per run (default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/servers.bash
need_redis sweep-redis
clients=${CLIENTS:-1 10 50 200 1000}
requests=${REQUESTS:-100000}
start_redis --maxclients 10100
start_kvserver

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
