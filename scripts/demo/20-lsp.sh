#!/usr/bin/env bash
# LSP: a few MB of random bytes through lspcat while the sender loses 30% of the datagrams it
# sends and 30% of those it receives. The received file must hash the same as the sent one.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
bin="${DS440_DEMO_BIN:-$(mktemp -d)}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$bin/lspcat" ./lsp/cmd/lspcat
mb=3
head -c $((mb * 1000 * 1000)) /dev/urandom > "$work/in.bin"
flags=(-epoch-ms 10 -epoch-limit 50 -window 64 -backoff 4)

"$bin/lspcat" "${flags[@]}" -l 0 > "$work/out.bin" 2> "$work/recv.log" &
pids+=($!)
listening() { port=$(sed -n 's/.*msg=listening port=\([0-9]*\).*/\1/p' "$work/recv.log"); [ -n "$port" ]; }
waitfor 10 "the receiver listening" listening || { cat "$work/recv.log"; exit 1; }
echo "receiver: lspcat -l listening on UDP port $port"
echo "sender:   lspcat -drop 30 127.0.0.1:$port < ${mb} MB of random bytes (30% loss each way)"

"$bin/lspcat" "${flags[@]}" -drop 30 "127.0.0.1:$port" < "$work/in.bin" 2> "$work/send.log" || {
  echo "sender failed:"; cat "$work/send.log"; exit 1; }
waitexit 60 "${pids[0]}" "the receiver" || { echo "receiver failed:"; cat "$work/recv.log"; exit 1; }

rate=$(sed -n 's/.*sent and acknowledged.* seconds=\([0-9.]*\) rate="\([^"]*\)".*/\2 (\1 s)/p' "$work/send.log")
echo "sent ${mb} MB and every message acknowledged: $rate"
sent=$(sha256sum < "$work/in.bin" | cut -d' ' -f1)
got=$(sha256sum < "$work/out.bin" | cut -d' ' -f1)
echo "sha256 sent:     $sent"
echo "sha256 received: $got"
if [ "$sent" != "$got" ]; then
  echo "MISMATCH: LSP lost or corrupted data"
  exit 1
fi
echo "identical: every byte arrived once, in order, through 30% loss"
