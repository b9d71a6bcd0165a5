package actor

import "fmt"

// Actor handles one message at a time. OnMessage must not block, start goroutines, use
// channels or share memory; an error it returns goes to the system's error handler and the
// actor keeps running. A panic in OnMessage is recovered and reported the same way
// (ErrActorPanicked), so one bad message does not take the process down.
type Actor interface {
	OnMessage(message any) error
}

// actorCell is the runtime side of one actor: its mailbox and the goroutine that feeds it.
type actorCell struct {
	ctx     *ActorContext
	actor   Actor
	mailbox *Mailbox
}

// run is the actor's goroutine: it drains the mailbox a burst at a time and hands messages to
// OnMessage one by one, until the system closes.
func (c *actorCell) run() {
	sys := c.ctx.sys
	var batch []any
	for {
		var ok bool
		if batch, ok = c.mailbox.popAll(batch); !ok {
			return
		}
		for i, msg := range batch {
			if sys.isClosed.Load() {
				return
			}
			batch[i] = nil
			if err := c.handle(msg); err != nil {
				sys.report(fmt.Errorf("actor %s: %w", c.ctx.Self.Uid(), err))
			}
		}
		if cap(batch) > maxKeptBatch {
			batch = nil // let a burst's memory go
		}
		batch = batch[:0]
	}
}

// maxKeptBatch bounds the drained slice an actor keeps for reuse between bursts.
const maxKeptBatch = 1 << 12

func (c *actorCell) handle(msg any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v (message %T)", ErrActorPanicked, r, msg)
		}
	}()
	return c.actor.OnMessage(msg)
}
