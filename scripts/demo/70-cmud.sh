#!/usr/bin/env bash
# CMUD: a two-server kvstore cluster and two scripted players, one per server. They mine, buy,
# move and solve together; the map shows both, and the shared problem's progress equals the sum
# of both players' work.
set -euo pipefail
bin="${DS440_DEMO_BIN:-$(mktemp -d)}"
go build -o "$bin/kvstored" ./kvstore/cmd/kvstored
go build -o "$bin/cmud" ./cmud/cmd/cmud
go build -o "$bin/kvcli" ./kvstore/cmd/kvcli
log="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$log"' EXIT
waitdesc() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "FAIL: no desc in $1"; exit 1; }

base=$(( 20000 + RANDOM % 20000 ))
"$bin/kvstored" -port "$base" -actors 2 >"$log/a.desc" 2>/dev/null & pids+=($!)
waitdesc "$log/a.desc"
"$bin/kvstored" -port $(( base + 10 )) -actors 2 "$(head -1 "$log/a.desc")" >"$log/b.desc" 2>/dev/null & pids+=($!)
waitdesc "$log/b.desc"
east="127.0.0.1:$((base+1)),127.0.0.1:$((base+2))" west="127.0.0.1:$((base+11)),127.0.0.1:$((base+12))"

echo "--- ada plays on the east server ---"
printf 'mine 20\nbuy cpu 9\nmove bridge\nsolve\nsolve\nsolve\nquit\n' |
  "$bin/cmud" -name ada -server "$east" -delay 0 | tee "$log/ada"
# Replication is asynchronous: let ada's three solves reach the west server before bob plays.
for _ in $(seq 50); do
  [ "$("$bin/kvcli" "127.0.0.1:$((base+11))" list problem/0/ | wc -l)" -ge 3 ] && break
  sleep 0.05
done
echo "--- bob plays on the west server ---"
printf 'mine 10\nbuy cpu 4\nsolve\nsolve\nmove fence\nquit\n' |
  "$bin/cmud" -name bob -server "$west" -delay 0 | tee "$log/bob"

dealt=$(cat "$log/ada" "$log/bob" | sed -n 's/.*: \([0-9]*\) done\..*/\1/p' | awk '{s+=$1} END {print s}')
# Replication is asynchronous (well under a second here): look until the east server has it all.
for _ in $(seq 50); do
  printf 'map\nstats\nquit\n' | "$bin/cmud" -name carol -server "$east" -delay 0 >"$log/carol"
  grep -q ", $dealt of 100 done" "$log/carol" && break
  sleep 0.1
done
echo "--- carol looks around from the east server ---"
cat "$log/carol"
grep -q 'the bridge *ada' "$log/carol" && grep -q 'the Fence *bob' "$log/carol" || { echo "FAIL: map does not show both"; exit 1; }
progress=$(sed -n 's/.*, \([0-9]*\) of 100 done.*/\1/p' "$log/carol")
echo "ada and bob dealt $dealt in all; the shared problem stands at $progress of 100"
[ "$progress" = "$dealt" ] || { echo "FAIL: progress $progress != $dealt"; exit 1; }
