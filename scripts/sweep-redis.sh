#!/usr/bin/env bash
# kvserver beside Redis by number of clients (the data of docs/plots/kvserver-redis.tsv):
# redis-benchmark -t get -c N against kvserver, Redis, kvserver, Redis (ABAB), for N in
# $CLIENTS, and prints the TSV, each server's mean of its two runs, that `make plots` draws.
# Servers and redis-benchmark are pinned to different CPUs as in bench-redis.sh. Skipped, with a hint, when redis-server is not installed.
#
# Environment: CLIENTS (default "1 10 50 200 1000"), REQUESTS per run (default 100000),
# BENCH_PIN (0: no CPU pinning), KVSERVER_FLAGS (extra kvserver flags, e.g. -portable).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/servers.bash
need_redis sweep-redis
clients=${CLIENTS:-1 10 50 200 1000}
requests=${REQUESTS:-100000}
pin_cpus
start_redis --maxclients 10100
# shellcheck disable=SC2086
start_kvserver ${KVSERVER_FLAGS:-}

# rps PORT CLIENTS: GET requests per second.
rps() {
  "${gen[@]}" redis-benchmark -p "$1" -c "$2" -n "$requests" -t get --csv 2>/dev/null | tr -d '"' |
    awk -F, '$1 == "GET" { print $2 }'
}
echo "# title: kvserver beside Redis 7 by clients (redis-benchmark -t get, no pipelining)"
echo "# x: clients"
echo "# y: requests/s"
echo "# logx"
echo "# command: bash scripts/sweep-redis.sh   (each count run kvserver, Redis, kvserver, Redis; means; $(nproc) cores, pinned: $pinned, load average $(cut -d" " -f1 /proc/loadavg) at the start)"
printf 'clients\tkvserver\tRedis %s\n' "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
for c in $clients; do
  k1=$(rps "$kport" "$c") r1=$(rps "$rport" "$c") k2=$(rps "$kport" "$c") r2=$(rps "$rport" "$c")
  awk -v c="$c" -v k1="$k1" -v k2="$k2" -v r1="$r1" -v r2="$r2" 'BEGIN { printf "%s\t%.0f\t%.0f\n", c, (k1 + k2) / 2, (r1 + r2) / 2 }'
done
