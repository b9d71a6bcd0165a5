package actor

import (
	"fmt"
	"net"

	"ds440/actor/internal/wire"
)

const rpcService = "ActorSystem"

// receiver is the net/rpc service remote systems call. It has one method on purpose: net/rpc
// logs every exported method that does not fit its signature.
type receiver struct{ sys *ActorSystem }

// Deliver puts a batch's messages into their mailboxes, in order. Messages for targets that do
// not exist are reported here, not to the sender: the call itself succeeded. A closing system
// refuses the batch, so the sender counts it undelivered.
func (r *receiver) Deliver(b *wire.Batch, _ *wire.Ack) error {
	s := r.sys
	if s.isClosed.Load() {
		return ErrClosed
	}
	for _, env := range b.Messages {
		s.stats.remoteBytesReceived.Add(int64(max(env.Size, 0)))
		if s.isClosed.Load() {
			continue
		}
		if err := s.deliver(env.To, env.Message); err != nil {
			s.report(fmt.Errorf("message %T from %s to %s/%d: %w", env.Message, b.From, s.addr, env.To, err))
		}
	}
	return nil
}

// serveConn serves the calls of one connection from another system, until it closes.
func (s *ActorSystem) serveConn(conn net.Conn) { s.rpcServer.ServeConn(conn) }
