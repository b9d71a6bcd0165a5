// Package actor is an actor system with local and remote messaging, the runtime of the P3
// key-value store and game.
//
// An Actor handles one message at a time and shares nothing: it learns about the world only
// from the messages it gets, and acts on it only through its ActorContext (Tell, TellAfter). It
// never blocks, starts goroutines or touches channels; the ActorSystem owns every goroutine,
// queue, timer and socket.
//
//	type counter struct {
//		ctx   *actor.ActorContext
//		count int
//	}
//
//	func (c *counter) OnMessage(m any) error {
//		switch m := m.(type) {
//		case Add:
//			c.count += m.N
//		case Get:
//			c.ctx.Tell(m.ReplyTo, c.count)
//		}
//		return nil
//	}
//
//	sys, _ := actor.New(actor.Config{})
//	defer sys.Close()
//	ref := sys.StartActor(func(ctx *actor.ActorContext) actor.Actor { return &counter{ctx: ctx} })
//	sys.Tell(ref, Add{N: 2})
//	reply, answer := sys.NewChannelRef()
//	sys.Tell(ref, Get{ReplyTo: reply})
//	fmt.Println(<-answer) // 2
//
// # Messages
//
// Every message is copied through encoding/gob when it is told, also between actors of one
// system, so sender and receiver never share memory: the receiver gets a fresh value that the
// sender can no longer change. Register every message type with gob.Register (in every process
// that sends or receives it). A message gob cannot carry (an unregistered type, a channel or
// function field, nil) is reported to the OnError handler and dropped; nothing panics. Gob
// drops the difference between nil and empty slices and maps and between T and *T (a message
// arrives as the type registered for it), locally exactly as remotely. ActorRef is registered
// by this package, so refs travel in messages and as messages. Copies are cheap: each
// copier is a gob encoder and decoder in lockstep, reused, so a type is described and compiled
// once, not per message.
//
// # Delivery
//
// Messages are delivered at most once and in order per (sender, receiver) pair, locally and
// remotely: a message can be lost (its remote system was unreachable, or the system closed)
// but never duplicated or overtaken by a later one. TellAfter messages are delivered when their
// timer fires. Tell never blocks: every
// mailbox is an unbounded FIFO (Mailbox), and a remote tell only appends to the queue of the
// target's system.
//
// A system serves remote tells over net/rpc on its TCP address (Addr). For each remote system
// it keeps one outgoing queue and one sender goroutine, which sends whatever is queued as one
// batch per RPC and waits for the answer before sending the next: per-sender order is kept, the
// sending actor never waits on the network, and under load batches grow so the link stays
// full. If a remote system does not answer, the sender reports it once (ErrRemoteUnreachable),
// drops and counts what is queued for it (Stats.MessagesUndelivered), and redials while
// messages keep coming: at once the first time (a restarted peer is back without delay), then
// with exponential backoff from 50 ms to 1 s until a call succeeds, so neither a dead peer nor
// one that accepts connections and fails every call causes a reconnect loop. Once the remote
// answers again later messages flow normally, in order. A batch whose call failed is counted
// as undelivered too, although some of it may have arrived: it is never sent twice (a batch
// net/rpc refused before writing a byte goes first on the next connection instead). An idle
// sender notices its peer closing the connection, so a peer restarted between two messages
// loses nothing. A sender dials only when it has something to send. Refs carry no incarnation:
// a message queued for a system that restarts on the same address reaches the new one.
//
// # Transports and faults
//
// New(Config) builds a system beside the contract's NewActorSystem: its Transport carries the
// connections (TCPTransport by default; an InmemNetwork connects the systems of one process
// through in-memory pipes, the in-process twin that lets tests of remote messaging run under
// testing/synctest), and its Faults add latency and loss to its remote tells, on the sending
// side, per system or per link (SetLinkFaults). Latency models a WAN without serialising: each
// message leaves one latency after it was told, together with the others due by then. A lost
// message is counted in Stats.MessagesUndelivered. Nothing of this is process-wide, except
// SetArtificialLatency, the contract's knob, which sets the latency of the systems made by
// NewActorSystem (compat.go keeps that older shape).
//
// # Stats
//
// Stats counts what a system told (external and actor sends, encoded bytes), what it received
// from other systems, the channel refs used, and MaxMessageRate, the highest per-second rate
// from one actor to one target over the sender's life. See Stats for the exact definitions.
package actor
