package lspnet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
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
func (fs *Faults) mangle(b []byte) []byte {
	shorten, lengthen := chance(&fs.shortenPercent), chance(&fs.lengthenPercent)
	corrupt := fs.corruptAll.Load() || chance(&fs.corruptPercent)
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
	fs.debug("mangled", "frame", f, "shorten", shorten, "lengthen", lengthen, "corrupt", corrupt)
	return out
}

// ParseHeader decodes what a Frame says apart from its payload, which it leaves nil. It scans
// for the header fields instead of decoding the JSON, which makes it many times faster than
// ParseFrame for an observer that sees every datagram, and falls back to ParseFrame for any
// input it does not recognise.
func ParseHeader(b []byte) (Frame, error) {
	var f Frame
	var ok [5]bool
	f.Type, ok[0] = scanInt(b, `"Type"`)
	f.ConnID, ok[1] = scanInt(b, `"ConnID"`)
	f.SeqNum, ok[2] = scanInt(b, `"SeqNum"`)
	f.Size, ok[3] = scanInt(b, `"Size"`)
	var sum int
	sum, ok[4] = scanInt(b, `"Checksum"`)
	if ok != [5]bool{true, true, true, true, true} || sum < 0 || sum > 0xffff || len(b) == 0 || b[0] != '{' {
		f, err := ParseFrame(b)
		f.Payload = nil
		return f, err
	}
	f.Checksum = uint16(sum)
	return f, nil
}

// scanInt finds key followed by a colon and returns the integer after it. Base64 payloads
// hold no quotes, so a key can only match where it is a key.
func scanInt(b []byte, key string) (int, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, false
	}
	b = bytes.TrimLeft(b[i+len(key):], " \t\r\n")
	if len(b) == 0 || b[0] != ':' {
		return 0, false
	}
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	n, digits := 0, 0
	for ; digits < len(b) && b[digits] >= '0' && b[digits] <= '9'; digits++ {
		if n > min(1<<62, math.MaxInt)/10 {
			return 0, false
		}
		n = 10*n + int(b[digits]-'0')
	}
	if digits == 0 || (digits < len(b) && b[digits] != ',' && b[digits] != '}' && b[digits] != ' ') {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}
