#!/usr/bin/env bash
# CMUD: a two-server kvstore cluster and two scripted players, one per server. They mine, buy,
# move and solve together; the map shows both, and the shared problem's progress equals the sum
# of both players' work.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
bin="${DS440_DEMO_BIN:-$(mktemp -d)}"
go build -o "$bin/kvstored" ./kvstore/cmd/kvstored
go build -o "$bin/cmud" ./cmud/cmd/cmud
go build -o "$bin/kvcli" ./kvstore/cmd/kvcli
log="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$log"' EXIT
waitdesc() { waitfor 10 "a server description in $1" test -s "$1"; }

base=$(free_ports 13)
"$bin/kvstored" -port "$base" -actors 2 >"$log/a.desc" 2>/dev/null & pids+=($!)
waitdesc "$log/a.desc"
"$bin/kvstored" -port $(( base + 10 )) -actors 2 "$(head -1 "$log/a.desc")" >"$log/b.desc" 2>/dev/null & pids+=($!)
waitdesc "$log/b.desc"
east="127.0.0.1:$((base+1)),127.0.0.1:$((base+2))" west="127.0.0.1:$((base+11)),127.0.0.1:$((base+12))"

echo "--- ada plays on the east server ---"
printf 'mine 20\nbuy cpu 9\nmove bridge\nsolve\nsolve\nsolve\nquit\n' |
  "$bin/cmud" -name ada -server "$east" -delay 0 | tee "$log/ada"
# Replication is asynchronous: let ada's three solves reach the west server before bob plays.
solves() { [ "$("$bin/kvcli" "127.0.0.1:$((base+11))" list problem/0/ | wc -l)" -ge 3 ]; }
waitfor 5 "ada's solves on the west server" solves
echo "--- bob plays on the west server ---"
printf 'mine 10\nbuy cpu 4\nsolve\nsolve\nmove fence\nquit\n' |
  "$bin/cmud" -name bob -server "$west" -delay 0 | tee "$log/bob"

dealt=$(cat "$log/ada" "$log/bob" | sed -n 's/.*: \([0-9]*\) done\..*/\1/p' | awk '{s+=$1} END {print s}')
# Replication is asynchronous (well under a second here): carol looks from the east server until
# it has everything bob did on the west, his last move included.
looks() {
  printf 'map\nstats\nquit\n' | "$bin/cmud" -name carol -server "$east" -delay 0 >"$log/carol"
  grep -q ", $dealt of 100 done" "$log/carol" && grep -q 'the bridge *ada' "$log/carol" && grep -q 'the Fence *bob' "$log/carol"
}
looks_done=0
waitfor 5 "ada on the bridge, bob at the fence and $dealt done, on the east server" looks && looks_done=1 || true
echo "--- carol looks around from the east server ---"
cat "$log/carol"
[ "$looks_done" = 1 ] || fail "map does not show both, or progress is not $dealt"
progress=$(sed -n 's/.*, \([0-9]*\) of 100 done.*/\1/p' "$log/carol")
echo "ada and bob dealt $dealt in all; the shared problem stands at $progress of 100"
[ "$progress" = "$dealt" ] || { echo "FAIL: progress $progress != $dealt"; exit 1; }
