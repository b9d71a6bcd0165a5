package lsp

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// MsgType is the kind of an LSP datagram.
type MsgType int

// The message types, numbered as on the wire.
const (
	MsgConnect MsgType = iota // client -> server: open a connection; SeqNum = client's initial sequence number
	MsgData                   // data, either direction
	MsgAck                    // acknowledges exactly one message (connect or data); SeqNum 0 = heartbeat
	MsgCAck                   // cumulative ack: every message with sequence number <= SeqNum
)

// String names the message type as it appears in logs.
func (t MsgType) String() string {
	switch t {
	case MsgConnect:
		return "Connect"
	case MsgData:
		return "Data"
	case MsgAck:
		return "Ack"
	case MsgCAck:
		return "CAck"
	}
	return "MsgType(" + strconv.Itoa(int(t)) + ")"
}

// Message is one LSP datagram. On the wire it is the encoding/json form of this struct
// (field names as written; Payload as base64, as encoding/json does for []byte).
type Message struct {
	Type     MsgType
	ConnID   int
	SeqNum   int
	Size     int    // len(Payload) as sent; data only
	Checksum uint16 // data only, see CalculateChecksum
	Payload  []byte
}

// NewConnect returns a connection request carrying the client's initial sequence number.
func NewConnect(initialSeqNum int) *Message {
	return &Message{Type: MsgConnect, SeqNum: initialSeqNum}
}

// NewData returns a data message. The caller supplies size and checksum so that tests can
// build inconsistent messages; newData is the consistent form the protocol sends.
func NewData(connID, seqNum, size int, payload []byte, checksum uint16) *Message {
	return &Message{Type: MsgData, ConnID: connID, SeqNum: seqNum, Size: size, Payload: payload, Checksum: checksum}
}

// NewAck returns an acknowledgement of the one message seqNum; seqNum 0 is a heartbeat.
func NewAck(connID, seqNum int) *Message {
	return &Message{Type: MsgAck, ConnID: connID, SeqNum: seqNum}
}

// NewCAck returns a cumulative acknowledgement of every message up to and including seqNum.
func NewCAck(connID, seqNum int) *Message {
	return &Message{Type: MsgCAck, ConnID: connID, SeqNum: seqNum}
}

// newData returns a well-formed data message: Size and Checksum match the payload.
func newData(connID, seqNum int, payload []byte) Message {
	return Message{
		Type: MsgData, ConnID: connID, SeqNum: seqNum, Size: len(payload), Payload: payload,
		Checksum: CalculateChecksum(connID, seqNum, len(payload), payload),
	}
}

// String renders the message compactly for logs and test failures.
func (m *Message) String() string {
	switch m.Type {
	case MsgData:
		return fmt.Sprintf("[Data %d %d %d %q %d]", m.ConnID, m.SeqNum, m.Size, m.Payload, m.Checksum)
	default:
		return fmt.Sprintf("[%v %d %d]", m.Type, m.ConnID, m.SeqNum)
	}
}

// ErrBadMessage reports a datagram that is not an LSP message.
var ErrBadMessage = errors.New("lsp: malformed message")

// MaxDatagram is the largest datagram LSP reads; larger ones are truncated by the socket and
// then fail to decode.
const MaxDatagram = 1<<16 - 1

// Marshal returns the wire form of m: exactly what encoding/json produces for it.
func (m *Message) Marshal() []byte {
	return m.AppendMarshal(make([]byte, 0, 80+base64.StdEncoding.EncodedLen(len(m.Payload))))
}

// AppendMarshal appends the wire form of m to dst and returns the extended buffer. It is the
// allocation-free form of Marshal for callers that reuse one buffer.
func (m *Message) AppendMarshal(dst []byte) []byte {
	dst = append(dst, `{"Type":`...)
	dst = strconv.AppendInt(dst, int64(m.Type), 10)
	dst = append(dst, `,"ConnID":`...)
	dst = strconv.AppendInt(dst, int64(m.ConnID), 10)
	dst = append(dst, `,"SeqNum":`...)
	dst = strconv.AppendInt(dst, int64(m.SeqNum), 10)
	dst = append(dst, `,"Size":`...)
	dst = strconv.AppendInt(dst, int64(m.Size), 10)
	dst = append(dst, `,"Checksum":`...)
	dst = strconv.AppendUint(dst, uint64(m.Checksum), 10)
	dst = append(dst, `,"Payload":`...)
	if m.Payload == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '"')
		dst = appendBase64(dst, m.Payload)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// Unmarshal decodes one datagram into m, reusing m.Payload's storage. It accepts whatever
// encoding/json accepts for a Message (any field order, whitespace, escapes), rejects
// anything else and any unknown message type with an error wrapping ErrBadMessage, and never
// panics. Fields absent from data are zero.
func Unmarshal(data []byte, m *Message) error {
	buf := m.Payload[:0]
	*m = Message{}
	if !decodeFast(data, m, buf) {
		// Rare inputs (escapes, unusual keys, syntax errors) take the general decoder, so the
		// two always agree; the fast path exists only for speed.
		*m = Message{}
		if err := json.Unmarshal(data, (*plainMessage)(m)); err != nil {
			*m = Message{}
			return fmt.Errorf("%w: %v", ErrBadMessage, err)
		}
	}
	if m.Type < MsgConnect || m.Type > MsgCAck {
		return fmt.Errorf("%w: unknown type %d", ErrBadMessage, m.Type)
	}
	return nil
}

// plainMessage is Message without methods, for encoding/json.
type plainMessage Message

// checkData reports whether a received data message is intact, cutting a lengthened payload
// back to Size first. A payload shorter than Size or one that fails the checksum is damaged.
func (m *Message) checkData() bool {
	if m.Size < 0 || m.Size > len(m.Payload) {
		return false
	}
	m.Payload = m.Payload[:m.Size]
	return CalculateChecksum(m.ConnID, m.SeqNum, m.Size, m.Payload) == m.Checksum
}
