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
#   4. server-bound: kvbench -engine uring (every client on one thread, through one io_uring: a
#      request costs it less CPU than it costs either server; -engine epoll where the kernel
#      refuses io_uring) with redis-benchmark's request shapes (SET/GET of key:<12 digits>,
#      3-byte values, 100,000 keys, half gets): -c 50, -c 50 -P 16, -c 1000 and -c 50 with the
#      idle connections open, ABBA ABBA inside kvbench, with each server's and kvbench's CPU per
#      request;
#   5. both servers again with every mutation fsynced before its reply (kvserver -aof -fsync
#      always, Redis appendfsync always): SET, LPUSH and MSET, without and with -P 16;
#   6. redis-benchmark with two threads of its own (--threads 2), -c 50 SET/GET without and with
#      -P 16, nothing pinned: the generator is not held to one CPU.
# Beside requests per second it prints p99 latency, server CPU time per request and the load
# generator's own CPU use, as a share of one CPU over its run (from /proc and bash's `times`,
# Linux only): a generator near 100% is the bottleneck, and then req/s measures it rather than
# the server. When taskset exists and there are two CPUs or more, both servers are pinned to
# the last CPU and every generator to the others, as the header line says, so that a generator
# and a server never take turns on one CPU (others' processes on a shared machine still can).
# Skipped, with a hint, when redis-server is not installed.
#
# Environment: BENCH_DURATION (kvbench time per server and load, default 10s),
# BENCH_REQUESTS (redis-benchmark requests per run, default 200000), BENCH_IDLE (idle
# connections of the idle loads of parts 3 and 4, default 10000; 0 skips them), BENCH_FSYNC_REQUESTS
# (redis-benchmark requests per fsync-always run, default a quarter of BENCH_REQUESTS; 0 skips
# it), BENCH_THREADS_REQUESTS (redis-benchmark requests per --threads 2 run, ten times that
# with -P 16; default twice BENCH_REQUESTS; 0 skips it), BENCH_PIN (0: no CPU pinning), KVSERVER_FLAGS (extra kvserver flags, e.g. -portable).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/servers.bash
need_redis bench-redis
pin_cpus

duration=${BENCH_DURATION:-10s}
requests=${BENCH_REQUESTS:-200000}
idle=${BENCH_IDLE:-10000}
fsync_requests=${BENCH_FSYNC_REQUESTS:-$((requests / 4))}
threads_requests=${BENCH_THREADS_REQUESTS:-$((requests * 2))}
hz=$(getconf CLK_TCK)

echo "building kvserver and kvbench..."
go build -o "$work/kvbench" ./kvserver/cmd/kvbench
start_redis --maxclients $((idle + 1100))
# shellcheck disable=SC2086
start_kvserver ${KVSERVER_FLAGS:-}

if [ "$pinned" = 1 ]; then
  pinning="servers pinned to CPU $server_cpu, load generators to CPU $gen_cpus"
else
  pinning="no CPU pinning (BENCH_PIN=0, no taskset, or one CPU)"
fi
echo "$(redis-server --version | cut -d' ' -f1-3) on 127.0.0.1:$rport, kvserver ${KVSERVER_FLAGS:-} on $kaddr, $(nproc) cores, $pinning, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# cputicks PID: user+system clock ticks the process has used.
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# seconds XmY.YYYs: the seconds of a time as bash's `times` prints it.
seconds() { awk -v t="$1" 'BEGIN { split(t, p, "m"); sub(/s$/, "", p[2]); print p[1] * 60 + p[2] }'; }

# run NAME PORT PID LABEL ARGS...: one redis-benchmark run; appends "LABEL TEST NAME rps p99
# cpu_us_per_request generator_cpu_percent" per test to $work/results (the server's CPU shared
# evenly by the run's tests). redis-benchmark's own CPU time comes from `times` in the subshell
# that ran it, whose only child it is.
run() {
  local name=$1 port=$2 pid=$3 label=$4
  shift 4
  local t0 t1 w0 w1 out gcpu
  t0=$(cputicks "$pid")
  w0=$(date +%s%N)
  (
    "${gen[@]}" redis-benchmark -h 127.0.0.1 -p "$port" -n "$requests" --csv "$@" >"$work/rb.out" 2>/dev/null
    times >"$work/rb.times" # the shell's own times, then its children's
  )
  w1=$(date +%s%N)
  t1=$(cputicks "$pid")
  read -r gu gs < <(sed -n 2p "$work/rb.times")
  gcpu=$(awk -v u="$(seconds "$gu")" -v s="$(seconds "$gs")" -v ns=$((w1 - w0)) 'BEGIN { printf "%.0f", (u + s) * 1e11 / ns }')
  out=$(tr -d '"' <"$work/rb.out" | grep -v '^test,')
  awk -F, -v label="$label" -v name="$name" -v ticks=$((t1 - t0)) -v hz="$hz" -v n="$requests" -v gcpu="$gcpu" '
    { gsub(/ /, "_", $1); test[NR] = $1; rps[NR] = $2; p99[NR] = $7 }
    END { for (i = 1; i <= NR; i++) printf "%s %s %s %s %s %.2f %s\n", label, test[i], name, rps[i], p99[i], ticks / hz * 1e6 / (n * NR), gcpu }' \
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
      rps[k, $3] += $4; p99[k, $3] += $5; cpu[k, $3] += $6; gen[k, $3] += $7; runs[k, $3]++ }
    function mean(a, k, s) { return runs[k, s] ? a[k, s] / runs[k, s] : 0 }
    function ratio(a, b) { return b > 0 ? a / b : 0 }
    END {
      printf "  %-9s %-34s %10s %10s %6s %8s %8s %6s %7s %7s %6s %6s %6s\n", "load", "test", "kv req/s", "redis", "ratio", "kv p99", "redis", "ratio", "kv cpu", "redis", "ratio", "rb@kv", "rb@rd"
      for (i = 1; i <= n; i++) {
        k = order[i]; split(k, f, " ")
        kr = mean(rps, k, "kvserver"); rr = mean(rps, k, "redis")
        kp = mean(p99, k, "kvserver"); rp = mean(p99, k, "redis")
        kc = mean(cpu, k, "kvserver"); rc = mean(cpu, k, "redis")
        kg = mean(gen, k, "kvserver"); rg = mean(gen, k, "redis")
        printf "  %-9s %-34s %10.0f %10.0f %5.2fx %6.3fms %6.3fms %5.2fx %5.1fus %5.1fus %5.2fx %5.0f%% %5.0f%%\n", f[1], f[2], kr, rr, ratio(kr, rr), kp, rp, ratio(kp, rp), kc, rc, ratio(kc, rc), kg, rg
      }
    }' "$work/results"
  : >"$work/results"
}
: >"$work/results"

echo "redis-benchmark -n $requests, each run kvserver, Redis, kvserver, Redis; means of two runs"
echo "(req/s: above 1 is kvserver faster; p99 and server CPU time per request: below 1 is kvserver better;"
echo " rb@kv, rb@rd: redis-benchmark's own CPU use, % of one CPU, in the runs against kvserver and Redis)"
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
  "${gen[@]}" "$work/kvbench" -proto redis -addr "$kaddr" -compare "redis=127.0.0.1:$rport" \
    -clients 50 -pipeline "$pipeline" -duration "$duration" -rounds 2 -get 0.5
  echo
done
if [ "$idle" -gt 0 ]; then
  "${gen[@]}" "$work/kvbench" -proto redis -addr "$kaddr" -compare "redis=127.0.0.1:$rport" \
    -clients 50 -duration "$duration" -rounds 2 -get 0.5 -idle "$idle"
  echo
fi
engine=uring
if ! "$work/kvbench" -proto redis -engine uring -clients 1 -keys 1 -duration 10ms -addr "$kaddr" >/dev/null 2>&1; then
  engine=epoll # io_uring is disabled here (a container's seccomp filter, say)
fi
echo "server-bound: kvbench -engine $engine, redis-benchmark's SET/GET shapes, each server driven four times (ABBA ABBA);"
echo "server cpu/op and kvbench cpu/op: CPU time per request; cpu: share of one CPU (a server near 100% is the bottleneck)"
loads=("-clients 50" "-clients 50 -pipeline 16" "-clients 1000")
if [ "$idle" -gt 0 ]; then loads+=("-clients 50 -idle $idle"); fi
for load in "${loads[@]}"; do
  # shellcheck disable=SC2086
  "${gen[@]}" "$work/kvbench" -proto redis -engine "$engine" -value-size 3 -keys 100000 -get 0.5 $load \
    -addr "$kaddr" -pid "kvserver=$kpid" -compare "redis=127.0.0.1:$rport" -pid "redis=$rpid" \
    -duration "$duration" -rounds 4
  echo
done
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
if [ "$threads_requests" -gt 0 ]; then
  # redis-benchmark's own threads (--threads 2): the generator is no longer held to one CPU, so
  # it and the server share the machine's, and what a server spends per request shows in req/s.
  # Nothing is pinned here: new servers, unpinned, and the generator free to use every CPU.
  was_pinned=$pinned pinned=0 gen=()
  start_redis
  start_kvserver
  requests=$threads_requests
  echo "redis-benchmark --threads 2 (nothing pinned), -n $requests, ABAB:"
  abab t2-c50 --threads 2 -c 50 -t set,get
  requests=$((threads_requests * 10))
  abab t2-P16 --threads 2 -c 50 -P 16 -t set,get
  table
  echo
  pinned=$was_pinned
fi
if [ "$pinned" = 1 ]; then
  echo "(Servers on CPU $server_cpu, load generators on CPU $gen_cpus; the machine's other processes may use either.)"
else
  echo "(Load generators share the machine's cores with the servers, the same way for both.)"
fi
