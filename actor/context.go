package actor

import "time"

// ActorContext is an actor's only door to the world: it names the actor (Self) and sends its
// messages. The system passes it to the actor's constructor; OnMessage uses the one it kept.
type ActorContext struct {
	// Self is this actor's ref; put it in a message to be answered.
	Self *ActorRef

	sys   *ActorSystem
	rates sendCounts
}

// Tell sends message to ref. It never blocks: the message is copied (encoded and decoded) now
// and queued for ref's mailbox or for the remote system that hosts ref. A message that cannot
// be encoded is reported to the error handler and dropped.
func (c *ActorContext) Tell(ref *ActorRef, message any) {
	c.sys.tell(c, ref, message)
}

// TellAfter sends message to ref after d, for timers. The message is copied and counted now
// (Stats and MaxMessageRate see the send at the call), and delivered when d has passed unless
// the system has closed by then.
func (c *ActorContext) TellAfter(ref *ActorRef, message any, d time.Duration) {
	c.sys.tellAfter(c, ref, message, d)
}

// IsLocal reports whether ref lives in this actor's system.
func (c *ActorContext) IsLocal(ref *ActorRef) bool {
	return c.sys.IsLocal(ref)
}
