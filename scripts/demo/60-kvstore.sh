#!/usr/bin/env bash
# Geo-replicated kvstore: two kvstored processes ("data centers") with 200 ms of artificial
# one-way latency between them. A put on one is read on the other; we time how long that takes
# and show what the background sync cost.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
bin="${DS440_DEMO_BIN:-$(mktemp -d)}"
go build -o "$bin/kvstored" ./kvstore/cmd/kvstored
go build -o "$bin/kvcli" ./kvstore/cmd/kvcli
log="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$log"' EXIT
ms() { echo $(( $(date +%s%N) / 1000000 )); }
waitdesc() { waitfor 10 "a server description in $1" test -s "$1"; }

base=$(free_ports 13)
"$bin/kvstored" -port "$base" -actors 2 -latency 200ms >"$log/a.desc" 2>"$log/a.err" & pids+=($!)
waitdesc "$log/a.desc"
"$bin/kvstored" -port $(( base + 10 )) -actors 2 -latency 200ms "$(head -1 "$log/a.desc")" >"$log/b.desc" 2>"$log/b.err" & pids+=($!)
waitdesc "$log/b.desc"
east="127.0.0.1:$(( base + 1 ))" west="127.0.0.1:$(( base + 12 ))"
echo "east: kvstored on $base (query actors $((base+1)), $((base+2))); west: on $((base+10)) (query actors $((base+11)), $((base+12)))"
echo "200 ms one-way latency between them"

"$bin/kvcli" "$west" get greeting || [ $? -eq 3 ] # absent: kvcli says so on stderr and exits 3
start=$(ms)
"$bin/kvcli" "$east" put greeting "hello from the east coast" >/dev/null
echo "put greeting on east actor 1"
until [ "$("$bin/kvcli" "$west" get greeting)" = "hello from the east coast" ]; do
  if (( $(ms) - start > 5000 )); then echo "FAIL: not replicated within 5 s"; exit 1; fi
  sleep 0.01
done
echo "read on west actor 2 after $(( $(ms) - start )) ms (bound: 2000 ms)"

for i in $(seq 1 50); do echo "put key$i value$i"; done | "$bin/kvcli" "$east" >/dev/null
all50() { [ "$("$bin/kvcli" "$west" list key | wc -l)" = 50 ]; }
waitfor 5 "50 puts replicated to west" all50
echo "50 more puts on east are all listed on west"

kill -INT "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
for s in a b; do
  name=$([ $s = a ] && echo east || echo west)
  stats=$(grep 'kvstored stopped' "$log/$s.err" | sed 's/.*msg="kvstored stopped" //')
  echo "$name sync cost: $stats"
done
