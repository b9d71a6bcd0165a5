// Package kvstore is a geo-replicated, eventually consistent key-value store on actors.
//
// A Server is one data center: an actor system with several query actors, each holding a full
// replica and answering Get, Put and List over its own net/rpc port at once, from memory. An
// RPC handler keeps no state; it tells its actor the query and waits on a channel ref. Versions
// are ordered last-writer-wins by (wall-clock millisecond, Uid of the actor that took the Put),
// and a Put is always stamped newer than what its actor holds, so a re-Put of a value that lost
// wins. Merge is commutative, associative and idempotent, so replicas converge however syncs
// are ordered or repeated.
//
// # Sync
//
// Actors sync by actor messages only, in rounds: every 150 ms (syncInterval) an actor sends
// each other actor of its server one message with the versions that are news to it since the
// last round, and each other server one message with the Puts it took itself, addressed to the
// one actor of that server paired with it (same index modulo the server's size), which passes
// them on to its own actors in its next round. So a Put reaches every local actor within one
// round, crosses to each remote server exactly once (not once per remote actor), and reaches
// every remote actor within two rounds plus the one-way latency; no pair of actors exchanges
// more than 1000/150 < 7 messages a second, and a round's size depends on the new writes, never
// on the size of the store.
//
// A server that starts with the descs of running servers sends a hello to the first actor of
// each; that actor answers with its whole replica and the list of servers it knows (so knowing
// one server is enough), and tells its own actors about the newcomer. From then on every actor
// includes the newcomer in its rounds, and each first sends it the Puts it took in the last few
// seconds, which covers any Put the welcome snapshot missed while the join was in flight.
//
// The Client asks its QueryRouter for an address before every call, keeps one connection per
// address and runs calls concurrently on it.
package kvstore
