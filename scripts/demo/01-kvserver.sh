#!/usr/bin/env bash
# kvserver: start it on a free port, use it over the text protocol and over RESP, drive it with
# kvbench when that program exists, and shut it down cleanly with SIGINT.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
bin="${DS440_DEMO_BIN:-$(mktemp -d)}"
go build -o "$bin/kvserver" ./kvserver/cmd/kvserver
log="$bin/kvserver.log"

"$bin/kvserver" -port 0 2>"$log" &
pid=$!
trap 'kill -9 "$pid" 2>/dev/null || true' EXIT
listening() { addr=$(sed -n 's/^kvserver listening on \(.*\)$/\1/p' "$log"); [ -n "$addr" ]; }
waitfor 10 "kvserver listening" listening || { cat "$log"; exit 1; }
host=${addr%:*} port=${addr##*:}
echo "kvserver is listening on $addr"

# The text protocol: one request per line; only Get (and errors) reply.
exec 3<>"/dev/tcp/$host/$port"
printf 'Put:fruit:apple\nPut:fruit:pear\nPut:fruit:plum\nUpdate:fruit:pear:fig\nDelete:veg\nGet:fruit\nGet:veg\nNonsense\n' >&3
echo
echo "text protocol:  Put apple, pear, plum; Update pear->fig; Get:fruit says"
want=(fruit:apple fruit:fig fruit:plum "ERR unknown verb (want Put, Get, Delete or Update)")
for w in "${want[@]}"; do
  IFS= read -r -t 5 -u 3 line || fail "no reply (wanted $w)"
  echo "    $line"
  [ "$line" = "$w" ] || fail "got '$line', want '$w'"
done
printf 'Delete:fruit\nGet:fruit\nPut:marker:ok\nGet:marker\n' >&3
IFS= read -r -t 5 -u 3 line || fail "no reply after Delete"
[ "$line" = "marker:ok" ] || fail "Get after Delete still answered '$line'"
echo "    after Delete:fruit, Get:fruit says nothing"
exec 3>&-

# RESP on the same port: the first byte '*' switches a connection to Redis's protocol.
resp() { # sends one command, prints the first line of the reply
  local frame="*$#\r\n" a
  for a in "$@"; do frame+="\$${#a}\r\n$a\r\n"; done
  printf "$frame" >&4
  IFS= read -r -t 5 -u 4 line || fail "no reply to $*"
  printf '%s' "${line%$'\r'}"
}
exec 4<>"/dev/tcp/$host/$port"
echo
echo "RESP (what redis-cli speaks) on the same port:"
r=$(resp RPUSH fruit kiwi mango); echo "    RPUSH fruit kiwi mango -> $r"; [ "$r" = ":2" ] || fail "RPUSH"
r=$(resp KVUPDATE fruit kiwi lime); echo "    KVUPDATE fruit kiwi lime -> $r"; [ "$r" = "+OK" ] || fail "KVUPDATE"
r=$(resp GET fruit); IFS= read -r -t 5 -u 4 v; echo "    GET fruit -> ${v%$'\r'} (the last value)"; [ "$r" = "\$5" ] && [ "${v%$'\r'}" = "mango" ] || fail "GET"
r=$(resp DEL fruit); echo "    DEL fruit -> $r"; [ "$r" = ":1" ] || fail "DEL"
r=$(resp GET fruit); echo "    GET fruit -> $r (nil)"; [ "$r" = "\$-1" ] || fail "GET after DEL"
exec 4>&-
if command -v redis-cli >/dev/null; then
  echo "    redis-cli -p $port PING -> $(redis-cli -h "$host" -p "$port" PING)"
fi

if [ -d kvserver/cmd/kvbench ]; then
  echo
  echo "kvbench, 5 seconds, 50 clients, 90% Get:"
  go build -o "$bin/kvbench" ./kvserver/cmd/kvbench
  "$bin/kvbench" -addr "$addr" -clients 50 -duration 5s -get 0.9
fi

kill -INT "$pid"
waitexit 10 "$pid" "kvserver's shutdown" || fail "kvserver exited with status $? after SIGINT"
trap - EXIT
echo
echo "kvserver shut down cleanly on SIGINT"
