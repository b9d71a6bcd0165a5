#!/usr/bin/env bash
# kvserver beside a real Redis on the very same load (`make bench-redis`).
#
# Starts redis-server (no persistence) and kvserver (in memory, its default path: the event
# loop on Linux) on free loopback ports, then runs every measurement against kvserver, Redis,
# kvserver, Redis (ABAB, so that neither always meets the same moment of a shared machine) and
# prints the mean of each server's two runs and their ratio:
#   1. redis-benchmark -t set,get -c 50, without and with -P 16, and -c 1000;
#   2. redis-benchmark with its default test list (PING_INLINE to MSET), one test at a time;
#   3. kvbench -proto redis -compare redis=...: 50 clients without and with 16-deep pipelines,
#      and with 10,000 idle connections open (ABBA inside kvbench);
#   4. both servers again with every mutation fsynced before its reply (kvserver -aof -fsync
#      always, Redis appendfsync always): SET, LPUSH and MSET, without and with -P 16.
# Beside requests per second it prints p99 latency and server CPU time per request (from
# /proc, Linux only). Skipped, with a hint, when redis-server is not installed.
#
# Environment: BENCH_DURATION (kvbench time per server and load, default 10s),
# BENCH_REQUESTS (redis-benchmark requests per run, default 200000), BENCH_IDLE (idle
# connections of the last kvbench load, default 10000; 0 skips it), BENCH_FSYNC_REQUESTS
# (redis-benchmark requests per fsync-always run, default a quarter of BENCH_REQUESTS; 0 skips
# it), KVSERVER_FLAGS (extra kvserver flags, e.g. -portable).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/servers.bash
need_redis bench-redis

duration=${BENCH_DURATION:-10s}
requests=${BENCH_REQUESTS:-200000}
idle=${BENCH_IDLE:-10000}
fsync_requests=${BENCH_FSYNC_REQUESTS:-$((requests / 4))}
hz=$(getconf CLK_TCK)

echo "building kvserver and kvbench..."
go build -o "$work/kvbench" ./kvserver/cmd/kvbench
start_redis --maxclients $((idle + 1100))
# shellcheck disable=SC2086
start_kvserver ${KVSERVER_FLAGS:-}

echo "$(redis-server --version | cut -d' ' -f1-3) on 127.0.0.1:$rport, kvserver ${KVSERVER_FLAGS:-} on $kaddr, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# cputicks PID: user+system clock ticks the process has used.
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run NAME PORT PID LABEL ARGS...: one redis-benchmark run; appends "LABEL TEST NAME rps p99
# cpu_us_per_request" per test to $work/results (CPU shared evenly by the run's tests).
run() {
  local name=$1 port=$2 pid=$3 label=$4
  shift 4
  local t0 t1 out
  t0=$(cputicks "$pid")
  out=$(redis-benchmark -h 127.0.0.1 -p "$port" -n "$requests" --csv "$@" 2>/dev/null | tr -d '"' | grep -v '^test,')
  t1=$(cputicks "$pid")
  awk -F, -v label="$label" -v name="$name" -v ticks=$((t1 - t0)) -v hz="$hz" -v n="$requests" '
    { gsub(/ /, "_", $1); test[NR] = $1; rps[NR] = $2; p99[NR] = $7 }
    END { for (i = 1; i <= NR; i++) printf "%s %s %s %s %s %.2f\n", label, test[i], name, rps[i], p99[i], ticks / hz * 1e6 / (n * NR) }' \
    <<<"$out" >>"$work/results"
}

# abab LABEL ARGS...: the same redis-benchmark run against kvserver, Redis, kvserver, Redis.
abab() {
  local label=$1
  shift
  for _ in 1 2; do
    run kvserver "$kport" "$kpid" "$label" "$@"
    run redis "$rport" "$rpid" "$label" "$@"
  done
}

# table: prints the results so far, one line per load and test, and clears them.
table() {
  awk '
    { k = $1 " " $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
      rps[k, $3] += $4; p99[k, $3] += $5; cpu[k, $3] += $6; runs[k, $3]++ }
    function mean(a, k, s) { return runs[k, s] ? a[k, s] / runs[k, s] : 0 }
    function ratio(a, b) { return b > 0 ? a / b : 0 }
    END {
      printf "  %-9s %-34s %10s %10s %6s %8s %8s %6s %7s %7s %6s\n", "load", "test", "kv req/s", "redis", "ratio", "kv p99", "redis", "ratio", "kv cpu", "redis", "ratio"
      for (i = 1; i <= n; i++) {
        k = order[i]; split(k, f, " ")
        kr = mean(rps, k, "kvserver"); rr = mean(rps, k, "redis")
        kp = mean(p99, k, "kvserver"); rp = mean(p99, k, "redis")
        kc = mean(cpu, k, "kvserver"); rc = mean(cpu, k, "redis")
        printf "  %-9s %-34s %10.0f %10.0f %5.2fx %6.3fms %6.3fms %5.2fx %5.1fus %5.1fus %5.2fx\n", f[1], f[2], kr, rr, ratio(kr, rr), kp, rp, ratio(kp, rp), kc, rc, ratio(kc, rc)
      }
    }' "$work/results"
  : >"$work/results"
}
: >"$work/results"

echo "redis-benchmark -n $requests, each run kvserver, Redis, kvserver, Redis; means of two runs"
echo "(req/s: above 1 is kvserver faster; p99 and server CPU time per request: below 1 is kvserver better)"
abab c50 -c 50 -t set,get
abab c50-P16 -c 50 -P 16 -t set,get
abab c1000 -c 1000 -t set,get
table
echo
echo "redis-benchmark's default tests, -c 50 -n $requests, each ABAB as above:"
for t in ping_inline ping_mbulk set get incr lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange mset; do
  abab default -t "$t"
done
table
echo

for pipeline in 1 16; do
  "$work/kvbench" -proto redis -addr "$kaddr" -compare "redis=127.0.0.1:$rport" \
    -clients 50 -pipeline "$pipeline" -duration "$duration" -rounds 2 -get 0.5
  echo
done
if [ "$idle" -gt 0 ]; then
  "$work/kvbench" -proto redis -addr "$kaddr" -compare "redis=127.0.0.1:$rport" \
    -clients 50 -duration "$duration" -rounds 2 -get 0.5 -idle "$idle"
  echo
fi
if [ "$fsync_requests" -gt 0 ]; then
  # Both servers log every mutation to a file in the same directory and fsync it before
  # answering: kvserver -aof -fsync always, Redis appendonly yes, appendfsync always.
  mkdir -p "$work/aof"
  start_redis --appendonly yes --appendfsync always --dir "$work/aof" --appendfilename redis.aof
  start_kvserver -aof "$work/aof/kvserver.aof" -fsync always
  requests=$fsync_requests
  echo "fsync always: kvserver -aof -fsync always beside Redis appendfsync always, files on $(df -T "$work" | awk 'NR == 2 { print $2 }') in one directory, -n $requests, ABAB:"
  abab c50 -c 50 -t set,lpush,mset
  abab c50-P16 -c 50 -P 16 -t set,lpush,mset
  table
  echo
fi
echo "(Load generators share the machine's cores with the servers, the same way for both.)"
