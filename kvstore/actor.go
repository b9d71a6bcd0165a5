package kvstore

import (
	"errors"

	"ds440/actor"
)

// queryActor is the actor around a node: it feeds the node its messages and carries out the
// node's envelopes. It never blocks, starts no goroutine and shares nothing.
type queryActor struct {
	ctx  *actor.ActorContext
	node *node
}

func newQueryActor(ctx *actor.ActorContext, cfg *Config) actor.Actor {
	clock := cfg.Clock
	n := newNode(ctx.Self, func() int64 { return clock().UnixMilli() })
	n.dropAfter = cfg.DropAfter.Milliseconds()
	n.peerAcks, n.putTimeout = cfg.PeerAcks, cfg.PutTimeout.Milliseconds()
	return &queryActor{ctx: ctx, node: n}
}

// OnMessage implements actor.Actor.
func (a *queryActor) OnMessage(message any) error {
	var reports []error
	for _, e := range a.node.handle(message) {
		if e.Report != nil {
			reports = append(reports, e.Report)
			continue
		}
		if e.After > 0 {
			a.ctx.TellAfter(e.To, e.Msg, e.After)
		} else {
			a.ctx.Tell(e.To, e.Msg)
		}
	}
	return errors.Join(reports...)
}
