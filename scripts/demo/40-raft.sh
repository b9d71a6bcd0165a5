#!/usr/bin/env bash
# Raft as three real processes on loopback: commit, kill the leader, elect a new one, commit
# more, restart the old leader and watch it catch up from its data directory.
set -euo pipefail
source "$(dirname "$0")/lib.bash"

bin="${DS440_DEMO_BIN:-$(mktemp -d)}/raftnode"
go build -o "$bin" ./raft/cmd/raftnode
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Six free loopback ports: three for Raft, three for the HTTP client interface.
base=$(free_ports 6)
ports=()
for i in 0 1 2 3 4 5; do ports+=($((base + i))); done
peers="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
http() { echo "127.0.0.1:${ports[$((3 + $1))]}"; }

start() { # start node i in the background
  "$bin" -id "$1" -peers "$peers" -data "$work/n$1" -http "$(http "$1")" 2>>"$work/n$1.log" &
  pids[$1]=$!
}
status() { curl -sf --max-time 1 "http://$(http "$1")/status" || echo '{}'; }
field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1" | tr -d '"'; }

# leader [excluded]: prints the id of the leader all live nodes agree on, waiting up to 10 s.
leader() {
  for _ in $(seq 100); do
    for i in 0 1 2; do
      [ "$i" = "${1:-x}" ] && continue
      s=$(status "$i")
      if [ "$(field "$s" role)" = leader ]; then echo "$i"; return 0; fi
    done
    sleep 0.1
  done
  echo "no leader elected" >&2; return 1
}
# put key value: commits through whichever node leads now. A loaded machine can make the cluster
# change leader between two steps, so a PUT that fails is retried on the new leader, for 15 s.
try_put() { local l; l=$(leader) && curl -sf --max-time 6 -X PUT --data "$2" "http://$(http "$l")/kv/$1" >/dev/null; }
put() { waitfor 15 "PUT $1 committed" try_put "$1" "$2" || exit 1; }
get() { curl -sf --max-time 1 "http://$(http "$1")/kv/$2"; }
show() {
  for i in 0 1 2; do
    s=$(status "$i")
    if [ "$s" = '{}' ]; then printf '  node %s: down\n' "$i"; continue; fi
    printf '  node %s: %-9s term %-3s commitIndex %-3s lastApplied %s\n' "$i" "$(field "$s" role)" \
      "$(field "$s" term)" "$(field "$s" commitIndex)" "$(field "$s" lastApplied)"
  done
}

for i in 0 1 2; do start "$i"; done
L=$(leader)
echo "three raftnode processes up; node $L leads:"
show

for k in a b c; do put "$k" "v-$k"; done
echo "committed a, b, c through the leader"

L=$(leader) # the leader now, should it have changed
kill -9 "${pids[$L]}"
{ wait "${pids[$L]}"; } 2>/dev/null || true
old=$L
echo "killed the leader (node $old, SIGKILL)"
t0=$(date +%s%N)
L=$(leader "$old")
echo "node $L elected leader in $(( ($(date +%s%N) - t0) / 1000000 )) ms:"
show

for k in d e; do put "$k" "v-$k"; done
echo "committed d, e through the leader"

start "$old"
restarted() { [ "$(grep -c 'raftnode: started' "$work/n$old.log" 2>/dev/null)" = 2 ]; }
waitfor 10 "node $old restarted" restarted
line=$(grep 'raftnode: started' "$work/n$old.log" | tail -n 1)
echo "restarted node $old; from its data directory it read term $(sed -n 's/.* term=\([0-9]*\).*/\1/p' <<<"$line"), log up to index $(sed -n 's/.* log=\([0-9]*\).*/\1/p' <<<"$line")"
caughtup() { [ "$(get "$old" e)" = v-e ] && [ "$(field "$(status "$old")" commitIndex)" = "$(field "$(status "$L")" commitIndex)" ]; }
waitfor 10 "node $old caught up with the leader" caughtup
show

fail=0
for i in 0 1 2; do
  for k in a b c d e; do
    if [ "$(get "$i" "$k")" != "v-$k" ]; then echo "FAIL: node $i has $k=$(get "$i" "$k"), want v-$k"; fail=1; fi
  done
done
c0=$(field "$(status "$old")" commitIndex)
cl=$(field "$(status "$L")" commitIndex)
if [ "$c0" != "$cl" ]; then echo "FAIL: node $old commitIndex $c0, leader $cl"; fail=1; fi
[ "$fail" = 0 ] || { echo "--- logs"; tail -n 20 "$work"/n*.log; exit 1; }
echo "ok: all three nodes hold a..e; node $old caught up to commitIndex $c0"
