// Package wire holds the net/rpc types of remote tells. They are exported because net/rpc
// insists, and internal because no one else should build them.
package wire

// Method is the net/rpc method a system serves remote tells on.
const Method = "ActorSystem.Deliver"

// Batch carries messages from one system to another, in the order they were told.
type Batch struct {
	From     string // the sending system's address, for diagnostics
	Messages []Envelope
}

// Envelope is one message for one actor (or channel ref) of the receiving system.
type Envelope struct {
	To      int   // the target's Counter
	Size    int32 // the message's encoded size as the sender counted it, for Stats
	Message any   // registered with gob by the program, on both sides
}

// Ack is the empty reply to a Batch: the messages are in their mailboxes.
type Ack struct{}
