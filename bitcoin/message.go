package bitcoin

import (
	"encoding/json"
	"errors"
	"fmt"
)

// MsgType tells what a Message is.
type MsgType int

// The three message types: a miner announces itself with Join, work goes out as Request (from a
// client to the server, and from the server to a miner), answers come back as Result.
const (
	Join MsgType = iota
	Request
	Result
)

// Message travels as the encoding/json form of this struct inside one LSP payload.
type Message struct {
	Type         MsgType
	Data         string
	Lower, Upper uint64 // inclusive nonce range of a Request
	Hash, Nonce  uint64 // a Result
}

// errBadMessage is returned by unmarshal for a payload that is not a valid Message.
var errBadMessage = errors.New("bitcoin: malformed message")

// NewJoin returns the message a miner sends to join the server.
func NewJoin() *Message { return &Message{Type: Join} }

// NewRequest returns a request to search the nonces in [lower, upper] for data's minimum hash.
func NewRequest(data string, lower, upper uint64) *Message {
	return &Message{Type: Request, Data: data, Lower: lower, Upper: upper}
}

// NewResult returns the answer to a request: the minimum hash found and its nonce.
func NewResult(hash, nonce uint64) *Message {
	return &Message{Type: Result, Hash: hash, Nonce: nonce}
}

// String formats the message for logs.
func (m *Message) String() string {
	switch m.Type {
	case Join:
		return "[Join]"
	case Request:
		return fmt.Sprintf("[Request %q %d %d]", m.Data, m.Lower, m.Upper)
	case Result:
		return fmt.Sprintf("[Result %d %d]", m.Hash, m.Nonce)
	default:
		return fmt.Sprintf("[Unknown type %d]", int(m.Type))
	}
}

// marshal encodes m for an LSP payload.
func (m *Message) marshal() []byte {
	b, err := json.Marshal(m)
	if err != nil {
		// A Message holds only strings and integers, which always encode.
		panic("bitcoin: encoding a Message cannot fail: " + err.Error())
	}
	return b
}

// unmarshal decodes an LSP payload into a Message, rejecting anything that is not one: bad
// JSON, an unknown type, or a Request whose range is empty (Lower > Upper).
func unmarshal(payload []byte) (*Message, error) {
	var m Message
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadMessage, err)
	}
	switch m.Type {
	case Join, Result:
	case Request:
		if m.Lower > m.Upper {
			return nil, fmt.Errorf("%w: request range [%d, %d] is empty", errBadMessage, m.Lower, m.Upper)
		}
	default:
		return nil, fmt.Errorf("%w: unknown type %d", errBadMessage, int(m.Type))
	}
	return &m, nil
}
