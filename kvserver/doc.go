// Package kvserver is a key-value database server over TCP. Each key holds a list of values;
// clients speak a line-oriented text protocol or, on the same port, Redis's RESP2, so stock
// Redis tools (redis-cli, redis-benchmark, client libraries) work against it unchanged.
//
// # Text protocol
//
// One request per "\n"-terminated line (a "\r" before the "\n" is ignored), fields separated
// by ':'; a key never contains ':'.
//
//	Put:key:value         appends value (the rest of the line)   no reply
//	Get:key               -                                       one "key:value" line per value
//	Delete:key            removes the key                         no reply
//	Update:key:old:new    every value old becomes new             no reply
//
// A malformed line gets one line "ERR <reason>", with no ':' in it so that it can never be
// taken for a Get reply, and the connection stays open. A line longer than MaxLine (1 MiB)
// gets "ERR line longer than 1 MiB" and the connection is closed.
//
// # Redis protocol
//
// A connection whose first byte is '*' speaks RESP2: RPUSH (Put), LRANGE (Get), DEL (Delete),
// KVUPDATE key old new (Update), SET (replaces the list with one value), GET (the last value),
// LPUSH, LLEN, EXISTS, DBSIZE, FLUSHALL, PING, ECHO, SELECT 0, QUIT, and COMMAND and CONFIG GET
// (empty arrays, which is all redis-cli and redis-benchmark need). Anything else gets
// "-ERR unknown command". Pipelined requests are answered in order. Malformed framing (bad or
// negative lengths, a missing CRLF, a frame over 1 MiB) gets "-ERR Protocol error: ..." and
// closes that connection only. LPUSH, LRANGE, DBSIZE and FLUSHALL are fast on a store that
// implements ListStore, as the memory store does.
//
// # Slow readers
//
// Each client has an outgoing queue of QueueLines (500) entries (text lines or RESP replies)
// waiting behind the write in progress, which is not counted, like what the kernel has taken,
// and a soft limit in bytes on its unsent replies, the write in progress included
// (Config.OutputSoftLimit, 2 MiB by default, as Redis's client-output-buffer-limit). When a
// text client's queue is full (500 lines, or the soft limit in bytes), further replies to it
// are discarded and their lines counted (Stats.DroppedLines); the client stays connected. A
// reply produced while the queue has room is queued whole, even past 500 lines, so a client
// that keeps up never receives part of a Get. A RESP client cannot be told which reply went
// missing, so instead of discarding, the server stops executing (and then reading) its
// requests until it reads its replies (Stats.Throttled): it throttles itself, as a pipelining
// client should expect, and no reply is lost. Either way no other client waits, and memory
// stays bounded however many requests a client pipelines. A client whose unsent replies
// exceed the hard limit (Config.OutputHardLimit, 1 GiB), which only one reply larger than the
// soft limit can cause, is disconnected (Stats.OverLimit, and CountDropped).
//
// # Design
//
// One loop goroutine owns the store and all bookkeeping; it never blocks on a client. Each
// client has a reader goroutine, which parses every complete request one read delivers and
// sends them to the loop as one batch, and a writer goroutine for replies the socket cannot
// take at once. The loop takes many batches per wake-up, executes them (db, a plain state
// machine with no goroutines) and appends each client's replies to a buffer; at the end of the
// round it writes each buffer itself with a non-blocking write, as Redis does, and hands only
// a remainder to the client's writer, so replies to a pipelining client are
// coalesced into few writes. A store that implements Committer (a log that fsyncs, say) is
// committed once per round, before that round's replies go out: group commit, so durability
// costs one fsync per round rather than one per write. Each reader may have at most two
// batches at the loop; this bounds what a flooding client can queue and is how a RESP client
// is throttled. On unix a reader that has drained its socket waits for the poller before it
// reads again rather than trying a read that finds nothing, so a request costs one read; the
// loop therefore hangs a connection up (shutdown) instead of closing it, since closing waits
// for a reader that is handing over a batch. There is no mutex: goroutines, channels and
// select only.
package kvserver
