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
// A connection speaks RESP2 instead of the text protocol when its first byte is '*', or when
// its first word is a Redis command written inline ("PING\r\n", "set k v\r\n", as
// redis-benchmark and redis-cli's telnet mode send): the word, up to a space, tab, CR or LF,
// is a command kvserver knows, in any case except the text protocol's own verbs spelt exactly
// Put, Get, Delete and Update. A text request always has ':' right after its verb, so no text
// request is ever taken for an inline command, and a text line that is not a request (no
// ':') still gets its "ERR" line. A RESP connection may mix inline lines and frames.
//
// Commands: PING, ECHO, SELECT 0, QUIT, COMMAND and CONFIG GET (empty arrays, which is all
// redis-cli and redis-benchmark need), DBSIZE, FLUSHALL, KVUPDATE key old new (Update);
// strings SET [NX|XX] [GET] [EX s|PX ms|KEEPTTL], GET, INCR, DECR, INCRBY, DECRBY, APPEND, STRLEN, MSET, MGET; keys EXISTS, DEL,
// KEYS, SCAN (every match in one reply, cursor 0, which SCAN's guarantees allow), TYPE,
// EXPIRE, PEXPIRE, TTL, PTTL, PERSIST; lists RPUSH (Put), LPUSH, LPOP, RPOP, LRANGE (Get),
// LLEN; hashes HSET, HMSET, HGET, HDEL, HGETALL, HLEN; sets SADD, SREM, SPOP, SMEMBERS, SCARD,
// SISMEMBER; sorted sets ZADD, ZPOPMIN, ZRANGE [WITHSCORES], ZSCORE, ZCARD. Replies, errors
// included (WRONGTYPE, "value is not an integer or out of range", arity), are Redis 7's; a test
// compares them with redis-server's when it is installed. Values may be up to 512 MiB, as in
// Redis. Pipelined requests are answered in order. Malformed framing gets "-ERR Protocol
// error: ..." and closes that connection only.
//
// Keys hold one type each. A string is a list of one value, as the KVStore contract maps SET
// and GET: GET of a list returns its last value, and RPUSH, LPUSH and LRANGE treat a string as
// a one-value list, where Redis would answer WRONGTYPE; every other mix of types is WRONGTYPE,
// as in Redis. The memory store and the FileStore hold every type, and the FileStore logs
// every mutation; on another KVStore the list commands work through its methods and the other
// types answer an error. Expired keys are removed when touched.
//
// # Persistence
//
// The durable store is package kvserver/filestore, whose append-only log (CRC-32C framed
// records, group commit, torn-tail recovery, compaction) survives crashes and whose every
// mutation and Commit returns its error. OpenFileStore serves one as a ListStore and a
// Committer, as `kvserver -aof FILE -fsync always|everysec` does: the clients of a round with
// a refused mutation, or whose records cannot be written (the round is then rolled back), are
// dropped, never answered.
// NewFileStore is the contract's shape, a store that commits every mutation and stops at the
// first that fails.
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
// One loop goroutine owns the store and all bookkeeping; it never blocks on a client. On Linux
// it is an event loop, as Redis's: it owns every socket, non-blocking, in one epoll set, and
// each round reads every ready socket once, parses and executes the complete requests it read
// (db, a plain state machine with no goroutines), appending each client's replies to a buffer,
// and at the end of the round writes each buffer. Where the kernel offers io_uring, a round's
// reads, and then its writes, to two or more clients are made with one system call (one
// io_uring_enter of a non-blocking recv or send per client); otherwise each is a read or a
// write of its own. A client whose socket does
// not take all of it keeps the rest until epoll reports the socket writable. When there is
// nothing to do the loop waits in epoll_wait itself, as Redis does (in the runtime's poller
// when the process has a single P); Close and Stats reach it through channels and a wake-up
// pipe. Config.PortableLoop, and every other
// platform, takes the portable path instead: each client has a reader goroutine, which parses
// every complete request one read delivers and sends them to the loop as one batch, and a
// writer goroutine for replies the socket cannot take at once; the loop takes many batches
// per wake-up and writes replies itself with non-blocking writes where the platform allows.
// Both paths share the parsers, the execution, the output accounting and the tests.
//
// A store that implements Committer (a log that fsyncs, say) is committed once per round,
// before that round's replies go out: group commit, so durability costs one fsync per round
// rather than one per write. A client may have at most two request batches at the loop; this
// bounds what a flooding client can queue and is how a RESP client is throttled (on the event
// loop, a throttled client's socket is simply not read). When a text request produces no
// reply the server acknowledges it at once (TCP_QUICKACK on Linux), so that a client with
// Nagle's algorithm on does not hold its next request back for the delayed ACK. On the
// portable path on unix a reader that has drained its socket waits for the poller before it
// reads again rather than trying a read that finds nothing, so a request costs one read; the
// loop therefore hangs a connection up (shutdown) instead of closing it, since closing waits
// for a reader that is handing over a batch. There is no mutex: goroutines, channels and
// select only.
package kvserver
