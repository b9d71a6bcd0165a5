// Package actorbench holds the actors and messages that actorbench and the package's process
// tests share: a Sender that streams numbered messages to a Checker, which counts them and
// checks their order. Both sides register the same types, so they run in different processes.
package actorbench

import (
	"encoding/gob"
	"errors"
	"fmt"
	"time"

	"ds440/actor"
)

// Seq is the N-th message of a stream.
type Seq struct {
	Stream string
	N      int
}

// Report asks a Checker where a stream stands; it answers ReplyTo with a Result.
type Report struct {
	ReplyTo actor.ActorRef
	Stream  string
}

// Result is a Checker's count for a stream: messages received and how many were out of order.
type Result struct {
	Stream            string
	Count, OutOfOrder int
}

// Start tells a Sender to stream N Seqs to To, Chunk at a time, and to tell Done the final
// Result.
type Start struct {
	To, Done actor.ActorRef
	Stream   string
	N, Chunk int
}

func init() {
	gob.Register(Seq{})
	gob.Register(Report{})
	gob.Register(Result{})
	gob.Register(Start{})
}

// Checker counts Seqs per stream and checks that each stream arrives in order.
type Checker struct {
	ctx     *actor.ActorContext
	streams map[string]*Result
}

// NewChecker is a constructor for ActorSystem.StartActor.
func NewChecker(ctx *actor.ActorContext) actor.Actor {
	return &Checker{ctx: ctx, streams: map[string]*Result{}}
}

// OnMessage implements actor.Actor.
func (c *Checker) OnMessage(m any) error {
	switch m := m.(type) {
	case Seq:
		r := c.stream(m.Stream)
		if m.N != r.Count {
			r.OutOfOrder++
		}
		r.Count = m.N + 1 // the next number expected; a gap counts once
	case Report:
		c.ctx.Tell(&m.ReplyTo, *c.stream(m.Stream))
	default:
		return fmt.Errorf("actorbench: checker got %T", m)
	}
	return nil
}

func (c *Checker) stream(name string) *Result {
	r := c.streams[name]
	if r == nil {
		r = &Result{Stream: name}
		c.streams[name] = r
	}
	return r
}

// Sender streams Seqs as Start says. It keeps at most two chunks unconfirmed: after each chunk
// it asks the checker for a Report, and sends the next chunk when a report comes back, so the
// queues stay bounded while the link stays busy.
type Sender struct {
	ctx   *actor.ActorContext
	start Start
	sent  int
}

// NewSender is a constructor for ActorSystem.StartActor.
func NewSender(ctx *actor.ActorContext) actor.Actor { return &Sender{ctx: ctx} }

// OnMessage implements actor.Actor.
func (s *Sender) OnMessage(m any) error {
	switch m := m.(type) {
	case Start:
		s.start, s.sent = m, 0
		s.chunk()
		s.chunk()
	case Result:
		if m.Count >= s.start.N {
			s.ctx.Tell(&s.start.Done, m)
			return nil
		}
		s.chunk()
	default:
		return fmt.Errorf("actorbench: sender got %T", m)
	}
	return nil
}

func (s *Sender) chunk() {
	if s.sent >= s.start.N {
		return
	}
	end := min(s.sent+s.start.Chunk, s.start.N)
	for ; s.sent < end; s.sent++ {
		s.ctx.Tell(&s.start.To, Seq{Stream: s.start.Stream, N: s.sent})
	}
	s.ctx.Tell(&s.start.To, Report{ReplyTo: *s.ctx.Self, Stream: s.start.Stream})
}

// ErrTimeout is returned by Stream when the final Result does not come in time.
var ErrTimeout = errors.New("actorbench: no result in time")

// Stream has a new Sender on sys send n Seqs of the named stream to the Checker at to, and
// returns the Checker's final Result and the time it took.
func Stream(sys *actor.ActorSystem, to actor.ActorRef, stream string, n int, timeout time.Duration) (Result, time.Duration, error) {
	sender := sys.StartActor(NewSender)
	done, result := sys.NewChannelRef()
	start := time.Now()
	sys.Tell(sender, Start{To: to, Done: *done, Stream: stream, N: n, Chunk: max(1, min(n, 20000))})
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r, ok := <-result:
		if !ok {
			return Result{}, 0, actor.ErrClosed
		}
		return r.(Result), time.Since(start), nil
	case <-timer.C:
		return Result{}, 0, ErrTimeout
	}
}
