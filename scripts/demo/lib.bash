# Helpers sourced by every demo part (the tour runs only *.sh, so this file is not a part).
# Each step of a part waits for the event it shows, with a deadline: never a bare sleep.

fail() { echo "FAILED: $*"; exit 1; }

# waitfor SECONDS WHAT COMMAND...: runs COMMAND every 50 ms until it succeeds. If it has not
# after SECONDS, it says so, naming WHAT, and returns 1 (which ends a part run with set -e).
waitfor() {
  local secs=$1 what=$2
  shift 2
  local deadline=$(($(date +%s%N) + secs * 1000000000))
  until "$@"; do
    if (($(date +%s%N) > deadline)); then
      echo "FAILED: $what: not seen within ${secs}s"
      return 1
    fi
    sleep 0.05
  done
}

gone() { ! kill -0 "$1" 2>/dev/null; }

# waitexit SECONDS PID WHAT: waits for the background process PID to exit and returns its exit
# status; if it is still running after SECONDS, it says so, naming WHAT, and returns 1.
waitexit() {
  waitfor "$1" "$3 to finish" gone "$2" || return 1
  wait "$2"
}

# free_ports N: prints a port P such that P to P+N-1 have no listener, from the range that
# internal/freeport hands out to Go tests (20000-31999, below Linux's ephemeral range; see its
# doc for why): a port an outgoing connection holds cannot be listened on although no listener
# is there to see, and on a busy machine a part's servers then failed to start.
free_ports() {
  local n=$1 lo=20000 hi=32000 p i
  for _ in $(seq 50); do
    p=$((lo + RANDOM % (hi - lo - n)))
    for ((i = 0; i < n; i++)); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$((p + i))") 2>/dev/null; then continue 2; fi
    done
    echo "$p"
    return 0
  done
  echo "no $n free ports in $lo-$hi" >&2
  return 1
}
