package actor_test

import (
	"encoding/gob"
	"fmt"
	"time"

	"ds440/actor"
)

// Add and Get are the counter's messages; like every message type, they are registered with
// gob so they can be copied and sent to other systems.
type Add struct{ N int }
type Get struct{ ReplyTo *actor.ActorRef }

func init() {
	gob.Register(Add{})
	gob.Register(Get{})
	gob.Register(Ball{})
}

// counter keeps a running total and tells it to whoever asks.
type counter struct {
	ctx   *actor.ActorContext
	count int
}

func (c *counter) OnMessage(m any) error {
	switch m := m.(type) {
	case Add:
		c.count += m.N
	case Get:
		c.ctx.Tell(m.ReplyTo, c.count)
	default:
		return fmt.Errorf("counter: unexpected message %T", m)
	}
	return nil
}

// A counter actor, asked for its total by code outside any actor through a channel ref.
func Example() {
	sys, err := actor.New(actor.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sys.Close()

	ref := sys.StartActor(func(ctx *actor.ActorContext) actor.Actor { return &counter{ctx: ctx} })
	for i := 1; i <= 4; i++ {
		sys.Tell(ref, Add{N: i})
	}
	reply, answer := sys.NewChannelRef()
	sys.Tell(ref, Get{ReplyTo: reply})
	select {
	case total := <-answer:
		fmt.Println("total:", total)
	case <-time.After(10 * time.Second):
		fmt.Println("no answer")
	}
	// Output: total: 10
}

// Ball is the ping-pong message: each player hits it back until Hits runs out.
type Ball struct {
	Hits   int
	From   *actor.ActorRef
	Done   *actor.ActorRef
	Player string
}

type player struct {
	ctx  *actor.ActorContext
	name string
}

func (p *player) OnMessage(m any) error {
	b, ok := m.(Ball)
	if !ok {
		return fmt.Errorf("player: unexpected message %T", m)
	}
	if b.Hits == 0 {
		p.ctx.Tell(b.Done, p.name+" wins")
		return nil
	}
	p.ctx.Tell(b.From, Ball{Hits: b.Hits - 1, From: p.ctx.Self, Done: b.Done, Player: p.name})
	return nil
}

// Two actors in two systems play ping-pong over the network; the last hit decides the winner.
func Example_pingPong() {
	left, err := actor.New(actor.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer left.Close()
	right, err := actor.New(actor.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer right.Close()

	ping := left.StartActor(func(ctx *actor.ActorContext) actor.Actor { return &player{ctx, "ping"} })
	pong := right.StartActor(func(ctx *actor.ActorContext) actor.Actor { return &player{ctx, "pong"} })
	done, result := left.NewChannelRef()
	left.Tell(pong, Ball{Hits: 9, From: ping, Done: done})
	select {
	case r := <-result:
		fmt.Println(r)
	case <-time.After(10 * time.Second):
		fmt.Println("the ball got lost")
	}
	// Output: ping wins
}
