#!/usr/bin/env bash
# Distributed bitcoin miner: a server, two miners and two clients on loopback over LSP. One miner
# is killed in the middle of the jobs; both clients must still get the right answers, which each
# client checks with a local brute-force scan (-verify).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
bin="${DS440_DEMO_BIN:-$(mktemp -d)}"
for p in server miner client; do go build -o "$bin/btc-$p" "./bitcoin/cmd/$p"; done
log="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$log"' EXIT
ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { printf '%d.%02d' $(( $1 / 1000 )) $(( $1 % 1000 / 10 )); }

port=$(free_ports 1)
"$bin/btc-server" -progress 1s "$port" 2>"$log/server" & pids+=($!)
waitfor 10 "the server listening" grep -q 'server listening' "$log/server"
"$bin/btc-miner" -workers 1 -report 1s "127.0.0.1:$port" 2>"$log/miner1" & victim=$!; pids+=($victim)
"$bin/btc-miner" -workers 1 -report 1s "127.0.0.1:$port" 2>"$log/miner2" & pids+=($!)

big=20000000 small=5000000
echo "server on UDP port $port, two miners (1 worker each)"
echo "client A asks for the best nonce in [0, $big] of 'ds440 A', client B in [0, $small] of 'ds440 B'"
start=$(ms)
"$bin/btc-client" -verify "127.0.0.1:$port" "ds440 A" "$big" >"$log/a" 2>"$log/a.err" & a=$!
"$bin/btc-client" -verify "127.0.0.1:$port" "ds440 B" "$small" >"$log/b" 2>"$log/b.err" & b=$!
pids+=($a $b)

# Kill miner 1 once it has finished a chunk and is working on another.
waitfor 20 "miner 1 mining" grep -q 'msg=mining' "$log/miner1"
kill -9 "$victim"; killed=$(ms); wait "$victim" 2>/dev/null || true
echo "killed miner 1 (SIGKILL) after $(secs $(( killed - start )))s, mid-job"
waitfor 5 "the server noticing the killed miner" grep -q 'miner lost' "$log/server"
echo "the server noticed $(( $(ms) - killed )) ms later (LSP: 5 silent epochs of 200 ms) and requeued its chunk"

ok=1
waitexit 120 "$b" "client B" || ok=0
waitexit 120 "$a" "client A" || ok=0
for c in b a; do
  elapsed=$(sed -n 's/.*elapsed=\([^ ]*\).*/\1/p' "$log/$c.err")
  echo "client ${c^^}: $(head -1 "$log/$c") after ${elapsed:-?}; $(tail -1 "$log/$c")"
done
grep -q '^Verified' "$log/a" && grep -q '^Verified' "$log/b" || ok=0
echo "server log: $(grep -c 'miner lost' "$log/server") miner lost, $(grep -c 'job answered' "$log/server") jobs answered"
peak=$(sed -n 's/.*msg=cluster hashes_per_s=\([0-9]*\).*/\1/p' "$log/server" | sort -n | tail -1)
[ -n "$peak" ] && echo "cluster hash rate (server log, best second): $(( peak / 1000 )) k hashes/s"
if [ "$ok" != 1 ]; then echo "FAIL: a wrong or missing answer"; tail -n 20 "$log"/*; exit 1; fi
echo "both answers right despite the killed miner"
