// Package raft implements the Raft consensus protocol (Ongaro and Ousterhout, "In Search of an
// Understandable Consensus Algorithm", Figure 2, with log compaction from §7): a set of servers
// agree on one log of commands, and each server hands the committed commands to its service in
// the same order, surviving crashes, restarts, partitions and a lossy network as long as a
// majority is up and can talk.
//
// # Design
//
// The protocol is a deterministic state machine, core, in plain types: persistent state
// (term, vote, log with a snapshot offset), volatile state (role, commit and apply indexes,
// per-peer progress) and methods that step it on a tick, an incoming RPC, a reply, or an API
// call. It has no goroutines, clocks or I/O, so each Figure 2 rule is tested table-driven. After
// every step the loop around it (Raft) takes a ready from the core, as in etcd's Ready/Advance:
// the Update to store (term, vote, the entries to append from some index, a new snapshot), the
// messages to send and the committed entries to apply. It stores, acknowledges with advance,
// then queues the messages for a fixed pool of sender goroutines per peer and the entries for
// one applier goroutine. Because the store comes first, every message and reply that leaves
// reflects durable state; only a leader's new entries go out while it stores its own copy,
// which it counts toward a majority once stored (Raft thesis §10.2.1). A Store that fails
// stops the server (Err says why): it no longer votes, leads or acknowledges. Kill waits for the clock,
// the senders and the applier; a Peer with a CallContext method (labrpc's ClientEnd, TCPPeer)
// lets it end calls in flight at once.
//
// Replication keeps at most one message carrying entries in flight per follower; whatever
// accumulates meanwhile goes in the next one, so load turns into bigger batches, not more RPCs.
// Start only appends and wakes the loop, which persists once for all Starts since the last
// round. Followers that reject an AppendEntries return a conflict hint (term and first index of
// the conflicting run), so the leader backs up a term per round trip. A follower behind the
// leader's snapshot gets InstallSnapshot. The leader counts its own vote for an entry only once
// the entry is persisted, and commits by counting only entries of its current term (Figure 8).
//
// Timers: a 10 ms tick, heartbeats every 100 ms (at most 10 per second per peer), election
// timeouts random in [300, 600) ms; Config changes them.
//
// # Using it
//
// A service creates one Raft per server with Make or New, passing a Peer per server (labrpc
// ClientEnds in tests, TCPPeer between processes) and its storage: a Storage (Load, and Store
// returning errors, the way hashicorp/raft's LogStore and StableStore do) such as FilePersister,
// which appends each update to a checksummed log with one fsync and rewrites the log atomically
// when a snapshot replaces its prefix, or MemoryPersister, its in-memory twin. Both also have the
// Persister methods MIT 6.5840's tests use; a Persister that is not a Storage works too, its whole
// state saved on every change. The service proposes commands with Start and applies what arrives on
// the apply channel; from time to time it saves its state and calls Snapshot so the log stays
// short. On a restart the service restores its own state from Persister.ReadSnapshot, and Raft
// continues from the persisted log. Commands must be gob-encodable (gob.Register non-basic types).
// An int, string or []byte command is stored and sent as it is; any other goes through gob with one
// encoder per entry, which costs a type description and reflection per entry, so a service that
// cares about speed encodes its commands itself.
//
// cmd/raftnode is a replicated key/value server built this way: Raft over TCP with a
// FilePersister and an HTTP port for clients.
package raft
