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
