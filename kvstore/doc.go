// Package kvstore is a geo-replicated, eventually consistent key-value store on actors.
//
// A Server is one data center: an actor system with several query actors, each holding a full
// replica and answering Get, Put and List over its own net/rpc port at once, from memory. An
// RPC handler keeps no state; it tells its actor the query and waits on a channel ref. Versions
// are ordered last-writer-wins by (wall-clock millisecond, Uid of the actor that took the Put),
// and a Put is always stamped newer than what its actor holds, so a re-Put of a value that lost
// wins. The merge is commutative, associative and idempotent, so replicas converge however syncs
// are ordered or repeated.
//
// # Sync
//
// Actors sync by actor messages only. A query actor keeps the news its peers have not seen: for
// the other actors of its server, every version that changed its replica (Puts it took and
// versions from other servers); for each other server, only the Puts it took itself. It sends
// all its news at once if it has sent no sync for 150 ms (syncInterval), and otherwise batches
// it until the interval has passed, on a timer message to itself. So a sparse write spreads in
// about a millisecond, a burst costs one message per peer per interval, and no (actor, target)
// pair, the actor's own timer included, carries more than 1000/150 < 7 messages a second. A
// Put crosses to each other server once, to the one actor there paired with the writer (same
// index modulo the server's size), which passes it on to its own actors. A sync's size
// depends on the writes since the last one, never on the size of the store; only the welcome
// to a joining server carries the whole replica.
//
// The actor system delivers at most once, and drops what it cannot deliver to an unreachable
// system. So each batch of Puts sent to another server is numbered, its receiver acknowledges
// it in its next sync to the sender, and a batch not acknowledged within 2 s (ackTimeout) is
// merged into the next one and sent again, then every 500 ms (failingResend) while that server
// acknowledges nothing, so Puts held back by a partition arrive soon after it heals; merging
// is idempotent, so a duplicate does no harm.
// A server that acknowledges nothing for Config.DropAfter (a minute by default) is dropped:
// the actor forgets what it owed it, so a server gone for good costs no memory, reports it
// (ErrServerDropped, through Config.OnError) and says hello to it every few seconds. When it
// answers, the two exchange their whole state and it is part of the cluster again.
//
// # Anti-entropy
//
// Only a writer's server sends its Puts to the others, so a server killed after some servers
// acknowledged a Put and before the rest did would leave them different for good. Each replica
// therefore keeps a digest: the XOR of a hash of every (key, version), split in 64 buckets by
// key, updated in O(1) per change. Every server's first actor sends the first actor of every
// other one its digest every 500 ms (Config.KeepaliveInterval; a keepalive, riding on the sync
// cadence). A receiver whose digest differs twice in a row while neither replica changed
// in between (so not a Put still on its way) answers with its 64 bucket digests; the first
// side sends its versions in the buckets that differ and names them, and the other sends
// back what it holds newer there. Replicas that agree cost a few bytes a keepalive; the rest
// grows only with the buckets that differ.
//
// A server restarted on the same address without descs starts empty and alone. The syncs its
// peers keep sending carry their server's desc, and the keepalives reach it also in an idle
// cluster: a keepalive from a server it does not know makes it say hello at once (an ordinary
// sync, after ackTimeout, since a joining server's first syncs may overtake its hello), and
// the welcome brings it the whole state. A desc that does not answer a hello within
// ackTimeout is reported (ErrUnreachable), and greeted again.
//
// A server that starts with the descs of running servers sends a hello to the first actor of
// each, again every 2 s until it is answered; that actor answers with its whole replica and
// the list of servers it knows (so knowing one server is enough), and tells its own actors
// about the newcomer. From then on every actor includes the newcomer in its rounds, and each
// first sends it the Puts it took in the last few seconds, which covers any Put the welcome
// snapshot missed while the join was in flight.
//
// # Durability of a Put
//
// By default (Config.PeerAcks 0, the contract's behaviour) a Put is answered as soon as its
// actor has taken it, from memory, and sent on with the next sync: a server killed less than
// a sync interval after acknowledging a Put can take it with it. With PeerAcks n > 0 the actor
// holds the answer until n other servers have acknowledged a sync that carries the Put (or a
// newer version of its key), so an acknowledged Put survives the death of its server (and of
// any n-1 others). The acknowledgements are the batch acknowledgements sync already uses, so
// no message is added and the rate limit holds; the price is latency, a round trip plus up to
// a sync interval on each side, and the throughput a client gets from it. A Put that not
// enough servers hold within Config.PutTimeout (they are down or cut off, or the cluster is
// smaller) returns ErrNotReplicated: its outcome is unknown, since it is taken where it was
// sent and passed on once a peer answers.
//
// # Construction
//
// NewServer is the contract's form: TCP, the wall clock, and an actor system that follows
// actor.SetArtificialLatency. New(Config) builds the same server from its parts: an actor
// system (or the Transport and Faults to start one with), the clock that stamps Puts, and the
// ports. On an actor.InmemNetwork, with NewClientConfig dialling through the same network, a
// whole cluster runs in one process without sockets, which is how the tests run the WAN
// scenarios under testing/synctest.
//
// The Client asks its QueryRouter for an address before every call, keeps one connection per
// address and runs calls concurrently on it.
package kvstore
