#!/usr/bin/env bash
# kvserver beside a real Redis on the very same load (`make bench-redis`).
#
# Starts redis-server (no persistence) and kvserver (in memory) on free loopback ports, then
#   1. kvbench -proto redis -compare redis=...: 50 clients without pipelining, then 16-deep
#      pipelines, each server driven in turn with the same seeded load;
#   2. redis-benchmark -t set,get against each, without and with -P 16;
#   3. redis-benchmark with its default test list (PING_INLINE to MSET), each test run against
#      kvserver and then Redis in turn, one table;
# and prints kvserver/Redis ratios. Skipped, with a hint, when redis-server is not installed.
#
# Environment: BENCH_DURATION (kvbench time per server and load, default 10s),
# BENCH_REQUESTS (redis-benchmark requests per test, default 200000).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/servers.bash
need_redis bench-redis

duration=${BENCH_DURATION:-10s}
requests=${BENCH_REQUESTS:-200000}

echo "building kvserver and kvbench..."
go build -o "$work/kvbench" ./kvserver/cmd/kvbench
start_redis
start_kvserver

echo "$(redis-server --version | cut -d' ' -f1-3) on 127.0.0.1:$rport, kvserver on $kaddr, $(nproc) cores"
echo

for pipeline in 1 16; do
  "$work/kvbench" -proto redis -addr "$kaddr" -compare "redis=127.0.0.1:$rport" \
    -clients 50 -pipeline "$pipeline" -duration "$duration" -rounds 2 -get 0.5
  echo
done

# rps HOST PORT PIPELINE: runs redis-benchmark and prints "SET GET" requests per second.
rps() {
  redis-benchmark -h "$1" -p "$2" -c 50 -n "$requests" -P "$3" -t set,get -q 2>/dev/null |
    tr '\r' '\n' | awk '/requests per second/ { sub(":", "", $1); v[$1] = $2 } END { print v["SET"], v["GET"] }'
}
echo "redis-benchmark -c 50 -n $requests -t set,get -q (requests per second):"
printf '  %-12s %12s %12s %12s %12s %8s %8s\n' pipeline kv-SET redis-SET kv-GET redis-GET SET-x GET-x
for pipeline in 1 16; do
  read -r kset kget < <(rps 127.0.0.1 "$kport" "$pipeline")
  read -r rset rget < <(rps 127.0.0.1 "$rport" "$pipeline")
  awk -v p="$pipeline" -v ks="$kset" -v rs="$rset" -v kg="$kget" -v rg="$rget" 'BEGIN {
    printf "  %-12s %12.0f %12.0f %12.0f %12.0f %7.2fx %7.2fx\n", "-P " p, ks, rs, kg, rg,
      (rs > 0 ? ks / rs : 0), (rg > 0 ? kg / rg : 0) }'
done
echo

# bench HOST PORT TEST: runs one redis-benchmark test and prints "TEST rps" lines.
bench() {
  redis-benchmark -h "$1" -p "$2" -n "$requests" -t "$3" -q 2>/dev/null |
    tr '\r' '\n' | awk -F': ' '/requests per second/ { n = $1; sub(/^ +/, "", n); gsub(/ /, "_", n); split($2, a, " "); print n, a[1] }'
}
# The default test list of redis-benchmark 7, one test at a time on each server in turn so that
# both see the same load on the machine.
echo "redis-benchmark -n $requests -q, its default tests (requests per second):"
: >"$work/kv.tests"
: >"$work/redis.tests"
for t in ping_inline ping_mbulk set get incr lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange mset; do
  bench 127.0.0.1 "$kport" "$t" >>"$work/kv.tests"
  bench 127.0.0.1 "$rport" "$t" >>"$work/redis.tests"
done
awk 'NR == FNR { r[$1] = $2; next } { printf "  %-40s %12.0f %12.0f %7.2fx\n", $1, $2, r[$1], (r[$1] > 0 ? $2 / r[$1] : 0) }
  BEGIN { printf "  %-40s %12s %12s %8s\n", "test", "kvserver", "redis", "ratio" }' "$work/redis.tests" "$work/kv.tests"
if [ "$(wc -l <"$work/kv.tests")" -ne "$(wc -l <"$work/redis.tests")" ]; then
  echo "bench-redis: kvserver completed $(wc -l <"$work/kv.tests") tests, Redis $(wc -l <"$work/redis.tests")"
  exit 1
fi
echo
echo "(ratios are kvserver/Redis; above 1 means kvserver is faster. Load generators share the"
echo " machine's cores with the servers, the same way for both.)"
