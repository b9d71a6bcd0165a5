// Package lsp implements the Live Sequence Protocol: reliable, in-order delivery of discrete
// messages over UDP, between one server and many clients, surviving loss, duplication,
// reordering, truncation, padding and corruption of datagrams, and noticing a dead peer.
//
// # Protocol
//
// A client opens a connection by sending Connect(initialSeqNum) once per epoch until the server
// answers Ack(connID, initialSeqNum). Each side then numbers its data messages from
// initialSeqNum+1. Every data message carries its Size and a 16-bit one's-complement
// checksum (CalculateChecksum, the course's definition bit for bit); the receiver drops one
// that is shorter than Size or fails the checksum, cuts one that is longer, answers every
// intact one at once with its own Ack(connID, seq) (again, if it is a duplicate) and delivers
// each exactly once, in order. A sender counts a message acked when its Ack arrives, or a
// CAck covering it (ds440 sends none, but understands a peer's).
// On the wire a message is the encoding/json form of Message.
//
// A sender keeps at most MaxUnackedMessages sent-but-unacked messages and sends seq s only if
// s < oldest unacked + WindowSize. At each epoch boundary it resends every unacked message
// whose backoff expired: resent at the first boundary after being sent, then after letting 1,
// 2, 4, ... epochs pass, capped at MaxBackOffInterval. Since every message is acked on its own,
// a message overtaken by the acks of three messages sent after it was lost (or its ack was):
// it is resent at once rather than at the next epoch boundary. A side that sent nothing during an
// epoch sends a heartbeat Ack(connID, 0); one that heard nothing for EpochLimit epochs
// declares the connection lost.
//
// # Design
//
// Every rule above lives in one deterministic state machine, conn (conn.go, window.go), with no
// goroutines, clock or socket: events in (a received message, an epoch tick, a write, a close),
// datagrams and in-order payloads out. Its tests drive it epoch by epoch. Client and Server
// are thin event loops around it: per endpoint, one loop goroutine owns all protocol state and
// receives API calls on channels. On Linux, on lspnet's operating-system sockets, the loop reads
// and decodes the datagrams itself, waiting in the socket's read until a datagram, the next
// epoch boundary or an API call wakes it (owned.go), so that a datagram reaches the protocol
// state without a hand-off between goroutines; on any other lspnet one more goroutine reads
// and decodes datagrams and hands them to the loop, which selects on them, on an epoch
// ticker and on the API's channels. Nothing is shared and no mutex is used; no goroutine or
// timer is started per message or per connection, and the loop never waits on a peer, so one
// slow or dead client cannot hold up the others. Message encoding and decoding reuse buffers
// and do not allocate. The network is reached only through package lspnet's contract names,
// whose fault controls the tests use to drop, delay, truncate, pad and corrupt datagrams.
//
// Each endpoint logs to the log/slog logger given by WithLogger and is silent by default;
// WithDial and WithListen put it on a network of the caller's choice, such as a test's own
// lspnet.Network with its own faults.
package lsp
