package kvstore

import (
	"time"

	"ds440/actor"
)

// queryActor is the actor around a node: it feeds the node its messages and carries out the
// node's envelopes. It never blocks, starts no goroutine and shares nothing.
type queryActor struct {
	ctx  *actor.ActorContext
	node *node
}

func newQueryActor(ctx *actor.ActorContext, clock func() time.Time) actor.Actor {
	return &queryActor{ctx: ctx, node: newNode(ctx.Self, func() int64 { return clock().UnixMilli() })}
}

// OnMessage implements actor.Actor.
func (a *queryActor) OnMessage(message any) error {
	for _, e := range a.node.handle(message) {
		if e.After > 0 {
			a.ctx.TellAfter(e.To, e.Msg, e.After)
		} else {
			a.ctx.Tell(e.To, e.Msg)
		}
	}
	return nil
}
