# Helpers sourced by the scripts that run kvserver beside a real Redis (bench-redis.sh,
# sweep-redis.sh): a work directory whose servers are stopped on exit, and the two servers
# started on free loopback ports.
source "$(dirname "${BASH_SOURCE[0]}")/demo/lib.bash"

# need_redis NAME: exits 0 with a hint when redis-server or redis-benchmark is missing.
need_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "$1: redis-server and redis-benchmark are not installed; skipping." >&2
    echo "  Debian/Ubuntu: sudo apt-get install -y redis-server    macOS: brew install redis" >&2
    exit 0
  fi
}

# pin_cpus: when taskset exists and the process may run on two CPUs or more, sets pinned=1,
# server_cpu to the last allowed CPU and gen_cpus to the others, and gen to the command prefix
# that runs a load generator on those; servers started afterwards are pinned to server_cpu
# (every thread, taskset -a), so that a generator and a server never take turns on one CPU.
# BENCH_PIN=0 turns it off. Otherwise (or before it is called) gen is empty and pinned=0.
pinned=0 gen=()
pin_cpus() {
  [ "${BENCH_PIN:-1}" != 0 ] && command -v taskset >/dev/null || return 0
  local list cpus=() part
  list=$(taskset -cp $$ | sed 's/.*: *//')
  for part in ${list//,/ }; do
    if [[ $part == *-* ]]; then cpus+=($(seq "${part%-*}" "${part#*-}")); else cpus+=("$part"); fi
  done
  [ "${#cpus[@]}" -ge 2 ] || return 0
  server_cpu=${cpus[-1]}
  unset 'cpus[-1]'
  gen_cpus=$(IFS=,; echo "${cpus[*]}")
  gen=(taskset -c "$gen_cpus")
  pinned=1
}

# pin_server PID: pins every thread of server PID to server_cpu, if pin_cpus set one up.
pin_server() {
  if [ "$pinned" = 1 ]; then taskset -a -p -c "$server_cpu" "$1" >/dev/null; fi
}

# Every server started here is recorded in pids, stopped and waited for on exit, and the work
# directory removed.
work=$(mktemp -d)
pids=()
stop_servers() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop_servers EXIT

# start_redis ARGS...: starts redis-server (no persistence, plus ARGS) and sets rport and rpid. Redis
# cannot pick a free port itself, so random high ports are tried until one binds.
start_redis() {
  local port pid log="$work/redis-${#pids[@]}.log"
  ready() { grep -q 'Ready to accept connections' "$log"; }
  for _ in $(seq 20); do
    port=$((20000 + RANDOM % 30000))
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no "$@" \
      >"$log" 2>&1 &
    pid=$!
    if waitfor 10 "redis-server on port $port" ready >/dev/null; then
      pids+=("$pid") rport=$port rpid=$pid
      pin_server "$pid"
      return 0
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "redis-server did not start:" >&2
  cat "$log" >&2
  exit 1
}

# start_kvserver ARGS...: builds kvserver (once) and starts it on a free port, in memory unless
# ARGS say otherwise; sets kaddr, kport and kpid.
start_kvserver() {
  local log="$work/kvserver-${#pids[@]}.log"
  [ -x "$work/kvserver" ] || go build -o "$work/kvserver" ./kvserver/cmd/kvserver
  "$work/kvserver" -port 0 "$@" 2>"$log" &
  kpid=$!
  pids+=("$kpid")
  listening() { grep -q '^kvserver listening on ' "$log"; }
  waitfor 10 "kvserver listening" listening || { cat "$log" >&2; exit 1; }
  kaddr=$(sed -n 's/^kvserver listening on \(.*\)$/\1/p' "$log")
  pin_server "$kpid"
  kport=${kaddr##*:}
}
