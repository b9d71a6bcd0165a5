package actor

import (
	"encoding/gob"
	"strconv"
)

// ActorRef names an actor anywhere: Address is its system's "host:port", Counter its number
// there. Actors get positive counters in the order they start; channel refs get negative ones,
// so a late message to a used channel ref is told apart from a message to an actor that never
// existed. Refs are plain values: copy them into messages freely.
type ActorRef struct {
	Address string
	Counter int
}

// Uid returns "Address/Counter", unique across every system that is running.
func (r *ActorRef) Uid() string {
	return r.Address + "/" + strconv.Itoa(r.Counter)
}

// ActorRef is registered with gob here, so a ref can be a message by itself.
func init() { gob.Register(ActorRef{}) }
