package raft

import (
	"context"
	"slices"
	"sync"
)

// A peer's messages go out through a fixed pool of senders fed by a short queue. A Peer.Call
// blocks until the reply or the Peer's timeout, and a call to a crashed or cut-off peer takes
// the whole timeout, so one sender per peer would hold every heartbeat behind a lost message.
// The core keeps at most one replicating message in flight per peer, plus heartbeats and
// commit news, so a few senders carry the normal load; the rest absorb slow calls.
const (
	sendersPerPeer = 8 // calls to one peer in flight at once
	sendQueue      = 2 // messages waiting for a free sender; older ones give way to newer
)

// contextPeer is a Peer whose calls can be abandoned: CallContext reports false as soon as ctx
// is done. *labrpc.ClientEnd and *TCPPeer are such peers. With one, Kill ends the calls in
// flight at once, and a peer's oldest call can give way to newer messages.
type contextPeer interface {
	CallContext(ctx context.Context, svcMeth string, args any, reply any) bool
}

// sender is the outgoing side of one peer: its queue and the calls its senders have in flight.
type sender struct {
	peer  Peer
	cpeer contextPeer // peer, if it can abandon calls; otherwise nil
	queue chan message

	mu    sync.Mutex
	calls []*caller // in flight, oldest first
}

// caller is one of a peer's senders, with the context its calls run under. The context lasts
// from call to call until a call is abandoned, so a call costs no allocation.
type caller struct {
	s      *sender
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
}

func newSender(p Peer) *sender {
	s := &sender{peer: p, queue: make(chan message, sendQueue)}
	s.cpeer, _ = p.(contextPeer)
	return s
}

// newCaller returns a sender for s whose calls end when parent is done.
func (s *sender) newCaller(parent context.Context) *caller {
	w := &caller{s: s, parent: parent}
	w.ctx, w.cancel = context.WithCancel(parent)
	return w
}

// call makes m's RPC and reports whether a reply came, with the reply.
func (w *caller) call(m message) (bool, any) {
	s := w.s
	method, args, reply := m.rpc()
	if s.cpeer == nil {
		return s.peer.Call(method, args, reply), reply
	}
	s.mu.Lock()
	s.calls = append(s.calls, w)
	s.mu.Unlock()
	ok := s.cpeer.CallContext(w.ctx, method, args, reply)
	s.mu.Lock()
	if i := slices.Index(s.calls, w); i >= 0 {
		s.calls = slices.Delete(s.calls, i, i+1)
	}
	if w.ctx.Err() != nil && w.parent.Err() == nil {
		w.ctx, w.cancel = context.WithCancel(w.parent) // abandoned: the next call needs a live one
	}
	s.mu.Unlock()
	return ok, reply
}

// abandonOldest gives up the oldest call in flight, which then reports no reply.
func (s *sender) abandonOldest() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) > 0 {
		s.calls[0].cancel()
		s.calls = s.calls[1:]
	}
}

// rpc returns m's method, its arguments and a fresh reply to fill in.
func (m message) rpc() (method string, args, reply any) {
	switch {
	case m.vote != nil:
		return methodRequestVote, m.vote, &RequestVoteReply{}
	case m.appendArgs != nil:
		return methodAppendEntries, m.appendArgs, &AppendEntriesReply{}
	default:
		return methodInstallSnapshot, m.snap, &InstallSnapshotReply{}
	}
}
