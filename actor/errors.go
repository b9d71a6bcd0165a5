package actor

import "errors"

// Errors reported to the handler set with OnError. They are wrapped with the details (the
// message type, the target's Uid, the remote address), so test them with errors.Is.
var (
	// ErrClosed means the system has closed.
	ErrClosed = errors.New("actor: system closed")
	// ErrNilMessage is reported for a Tell of nil: there is nothing to encode.
	ErrNilMessage = errors.New("actor: nil message")
	// ErrNilRef is reported for a Tell to a nil *ActorRef.
	ErrNilRef = errors.New("actor: nil actor ref")
	// ErrUnencodable is reported when gob cannot encode a message: its type was not registered
	// with gob.Register, or it holds something gob cannot carry (a channel, a function).
	ErrUnencodable = errors.New("actor: message cannot be encoded")
	// ErrNoSuchActor is reported for a message to a counter that names no actor of the system.
	ErrNoSuchActor = errors.New("actor: no such actor")
	// ErrChannelRefUsed is reported for a message to a channel ref that already got its one
	// message (or whose system has closed); the message is dropped.
	ErrChannelRefUsed = errors.New("actor: channel ref already used")
	// ErrActorPanicked is reported when OnMessage panics; the actor keeps running.
	ErrActorPanicked = errors.New("actor: OnMessage panicked")
	// ErrRemoteUnreachable is reported once when a remote system stops answering; messages for
	// it are counted in Stats.MessagesUndelivered until it answers again.
	ErrRemoteUnreachable = errors.New("actor: remote system unreachable")
	// ErrBadAddress is returned by New and NewActorSystem for an address they cannot listen on.
	ErrBadAddress = errors.New("actor: bad listen address")
)
