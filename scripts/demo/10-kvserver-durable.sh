#!/usr/bin/env bash
# kvserver with an append-only log: writes survive SIGKILL, a torn tail is cut at the last
# intact record (its bytes kept beside the log), damage inside the log stops the server instead
# of deleting what follows, and kvbench measures what durability costs against memory.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
bin="${DS440_DEMO_BIN:-$(mktemp -d)}"
go build -o "$bin/kvserver" ./kvserver/cmd/kvserver
go build -o "$bin/kvbench" ./kvserver/cmd/kvbench
dir=$(mktemp -d)
aof="$dir/appendonly.log"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

# start NAME ARGS...: starts kvserver, sets pid and addr, logs to $dir/NAME.log.
start() {
  local name=$1
  shift
  : >"$dir/$name.log"
  "$bin/kvserver" -port 0 "$@" 2>"$dir/$name.log" &
  pid=$!
  pids+=("$pid")
  listening() { addr=$(sed -n 's/^kvserver listening on \(.*\)$/\1/p' "$dir/$name.log"); [ -n "$addr" ]; }
  waitfor 10 "kvserver $name listening" listening || { cat "$dir/$name.log"; exit 1; }
}

# resp CMD ARGS...: sends one RESP command on fd 4 and prints the reply, arrays as a list.
resp() {
  local frame="*$#\r\n" a line n
  for a in "$@"; do frame+="\$${#a}\r\n$a\r\n"; done
  printf "$frame" >&4
  IFS= read -r -t 5 -u 4 line || fail "no reply to $*"
  line=${line%$'\r'}
  case $line in
    \**)
      n=${line#\*}
      local out=()
      for ((i = 0; i < n; i++)); do
        IFS= read -r -t 5 -u 4 line && IFS= read -r -t 5 -u 4 line || fail "short reply to $*"
        out+=("${line%$'\r'}")
      done
      echo "${out[*]}"
      ;;
    *) echo "$line" ;;
  esac
}

connect() { exec 4<>"/dev/tcp/${addr%:*}/${addr##*:}"; }

start first -aof "$aof" -fsync always
echo "kvserver on $addr, every write fsynced to an append-only log before it is answered"
connect
echo "    RPUSH fruit apple pear plum -> $(resp RPUSH fruit apple pear plum)"
echo "    KVUPDATE fruit pear fig     -> $(resp KVUPDATE fruit pear fig)"
echo "    RPUSH veg leek              -> $(resp RPUSH veg leek)"
echo "    DEL veg                     -> $(resp DEL veg)"
exec 4>&-

crash() { kill -9 "$pid"; { wait "$pid" || true; } 2>/dev/null; }

crash
echo
echo "SIGKILL: the server dies without a chance to flush anything. Restarted on the same log:"
start second -aof "$aof" -fsync always
sed -n 's/.*replayed the log.* records=\([0-9]*\) bytes=\([0-9]*\).*/    replayed \1 records (\2 bytes) from the log/p' "$dir/second.log"
connect
got=$(resp LRANGE fruit 0 -1)
echo "    LRANGE fruit 0 -1 -> $got"
[ "$got" = "apple fig plum" ] || fail "after restart fruit is '$got', want 'apple fig plum'"
got=$(resp EXISTS veg)
[ "$got" = ":0" ] || fail "the deleted key veg came back: EXISTS says $got"
exec 4>&-
crash

echo
echo "A crash in the middle of a write leaves half a record at the end of the log:"
printf '\x40\x00\x00\x00\x12\x34' >>"$aof"
start third -aof "$aof" -fsync always
grep -q 'cut the torn tail' "$dir/third.log" || fail "the torn tail was not reported"
sed -n 's/.*cut the torn tail.* records=\([0-9]*\) .*cut_bytes=\([0-9]*\) reason="\([^"]*\)" torn_copy=\([^ ]*\).*/    on restart: \3; cut \2 bytes, kept \1 records; the cut bytes are kept in \4/p' "$dir/third.log"
connect
got=$(resp LRANGE fruit 0 -1)
echo "    LRANGE fruit 0 -1 -> $got (every intact record kept)"
[ "$got" = "apple fig plum" ] || fail "after cutting the tail fruit is '$got'"
exec 4>&-
kill -INT "$pid"
waitexit 10 "$pid" "kvserver's shutdown" || fail "kvserver exited with status $? after SIGINT"

echo
echo "Damage inside the log is not a torn tail: one flipped byte in the first record, and"
echo "kvserver refuses to start rather than drop the intact records after it:"
cp "$aof" "$dir/damaged.log"
printf '\xff' | dd of="$dir/damaged.log" bs=1 seek=20 conv=notrunc status=none
if "$bin/kvserver" -port 0 -aof "$dir/damaged.log" 2>"$dir/damaged.err"; then fail "kvserver started on a damaged log"; fi
sed 's/^/    /' "$dir/damaged.err" | head -2
"$bin/kvserver" -aof-check "$dir/damaged.log" 2>&1 | sed 's/^/    -aof-check: /' | head -3 || true
cmp -s "$aof" "$dir/damaged.log" && fail "the damaged copy equals the original"

echo
echo "What durability costs: kvbench drives a log-backed kvserver (fsync everysec) and an"
echo "in-memory one with the same load, one after the other, 2 s each, 20 clients over RESP:"
start aof -aof "$dir/bench.log" -fsync everysec
aofaddr=$addr aofpid=$pid
start memory
"$bin/kvbench" -proto redis -addr "$aofaddr" -name aof-everysec -compare "memory=$addr" \
  -clients 20 -duration 2s -get 0.5 | tee "$dir/bench.out" | sed 's/^/    /'
grep -q '^ratio aof-everysec/memory: ' "$dir/bench.out" || fail "kvbench printed no ratio"

kill -INT "$aofpid" "$pid"
waitexit 10 "$aofpid" "the log-backed kvserver's shutdown" || fail "the log-backed kvserver exited with status $? after SIGINT"
waitexit 10 "$pid" "kvserver's shutdown" || fail "kvserver exited with status $? after SIGINT"
echo
echo "both servers shut down cleanly on SIGINT"
