package lspnet

import (
	"encoding/json"
	"fmt"
)

// Frame is an LSP message as lspnet sees it on the wire. lspnet cannot import package lsp
// (lsp imports lspnet), so it carries its own copy of the contract's wire format: the
// encoding/json form of {Type, ConnID, SeqNum, Size, Checksum, Payload}.
type Frame struct {
	Type     int
	ConnID   int
	SeqNum   int
	Size     int
	Checksum uint16
	Payload  []byte
}

// The message types of the LSP wire format.
const (
	TypeConnect = 0
	TypeData    = 1
	TypeAck     = 2
	TypeCAck    = 3
)

// ParseFrame decodes an LSP datagram. It is for observers (taps, tests): it checks only that
// b is JSON of the right shape, not sizes or checksums.
func ParseFrame(b []byte) (Frame, error) {
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, fmt.Errorf("lspnet: not an LSP message: %w", err)
	}
	return f, nil
}

// IsData reports whether f carries data.
func (f Frame) IsData() bool { return f.Type == TypeData }

// IsHeartbeat reports whether f is a heartbeat: an Ack of sequence number 0.
func (f Frame) IsHeartbeat() bool { return f.Type == TypeAck && f.SeqNum == 0 }

// String renders f for logs and test failures.
func (f Frame) String() string {
	switch f.Type {
	case TypeConnect:
		return fmt.Sprintf("[Connect %d %d]", f.ConnID, f.SeqNum)
	case TypeData:
		return fmt.Sprintf("[Data %d %d size=%d len=%d]", f.ConnID, f.SeqNum, f.Size, len(f.Payload))
	case TypeAck:
		return fmt.Sprintf("[Ack %d %d]", f.ConnID, f.SeqNum)
	case TypeCAck:
		return fmt.Sprintf("[CAck %d %d]", f.ConnID, f.SeqNum)
	}
	return fmt.Sprintf("[Type%d %d %d]", f.Type, f.ConnID, f.SeqNum)
}

// mangle applies the shortening, lengthening and corrupting controls to a written datagram.
// Only data messages with a payload are touched: the controls model damage to the payload
// that the receiver's Size and checksum checks must catch. It returns b itself when nothing
// was done, and never modifies b, which the caller still owns.
func mangle(b []byte) []byte {
	shorten, lengthen, corrupt := chance(&shortenPercent), chance(&lengthenPercent), chance(&corruptPercent)
	if !shorten && !lengthen && !corrupt {
		return b
	}
	f, err := ParseFrame(b)
	if err != nil || !f.IsData() || len(f.Payload) == 0 {
		return b
	}
	p := f.Payload // freshly decoded, so ours to change
	if corrupt {
		i := randN(8 * len(p))
		p[i/8] ^= 1 << (i % 8)
	}
	if shorten {
		p = p[:randN(len(p))]
	}
	if lengthen {
		junk := make([]byte, 1+randN(16))
		for i := range junk {
			junk[i] = byte(randN(256))
		}
		p = append(p, junk...)
	}
	f.Payload = p
	out, err := json.Marshal(f)
	if err != nil {
		return b
	}
	debugf("mangled %v (shorten=%v lengthen=%v corrupt=%v)", f, shorten, lengthen, corrupt)
	return out
}
