package lsp

import (
	"bytes"
	"math"
)

// decodeFast decodes the common shape of a Message object (plain keys naming the fields
// exactly, integer values, a base64 or null Payload, optional whitespace) without reflection
// or allocation beyond the payload. It reports false for anything else, leaving the general
// decoder to either accept the input or explain why not.
func decodeFast(data []byte, m *Message, buf []byte) bool {
	d := fastDecoder{data: data, buf: buf}
	if !d.consume('{') {
		return false
	}
	if d.consume('}') {
		return d.end()
	}
	for {
		key, ok := d.key()
		if !ok || !d.consume(':') {
			return false
		}
		switch key {
		case "Type":
			v, ok := d.int(math.MinInt, math.MaxInt)
			if !ok {
				return false
			}
			m.Type = MsgType(v)
		case "ConnID":
			if m.ConnID, ok = d.int(math.MinInt, math.MaxInt); !ok {
				return false
			}
		case "SeqNum":
			if m.SeqNum, ok = d.int(math.MinInt, math.MaxInt); !ok {
				return false
			}
		case "Size":
			if m.Size, ok = d.int(math.MinInt, math.MaxInt); !ok {
				return false
			}
		case "Checksum":
			v, ok := d.int(0, math.MaxUint16)
			if !ok {
				return false
			}
			m.Checksum = uint16(v)
		case "Payload":
			if !d.payload(m) {
				return false
			}
		default:
			return false
		}
		if d.consume('}') {
			return d.end()
		}
		if !d.consume(',') {
			return false
		}
	}
}

// fastDecoder walks a datagram for decodeFast.
type fastDecoder struct {
	data []byte
	pos  int
	buf  []byte // storage for the payload
}

func (d *fastDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// consume skips whitespace and then c, reporting whether c was there.
func (d *fastDecoder) consume(c byte) bool {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// end reports whether only whitespace is left.
func (d *fastDecoder) end() bool {
	d.skipSpace()
	return d.pos == len(d.data)
}

// str returns the raw bytes of a string, up to the next quote. An escape sequence is not
// interpreted: in a key it makes the key unknown, and in the payload the backslash is invalid
// base64, so either way the general decoder takes over.
func (d *fastDecoder) str() ([]byte, bool) {
	if !d.consume('"') {
		return nil, false
	}
	n := bytes.IndexByte(d.data[d.pos:], '"')
	if n < 0 {
		return nil, false
	}
	s := d.data[d.pos : d.pos+n]
	d.pos += n + 1
	return s, true
}

// key returns an object key as a string without allocating (the compiler does not copy a
// []byte converted for a switch comparison).
func (d *fastDecoder) key() (string, bool) {
	k, ok := d.str()
	if !ok {
		return "", false
	}
	switch string(k) {
	case "Type":
		return "Type", true
	case "ConnID":
		return "ConnID", true
	case "SeqNum":
		return "SeqNum", true
	case "Size":
		return "Size", true
	case "Checksum":
		return "Checksum", true
	case "Payload":
		return "Payload", true
	}
	return "", false
}

// int parses a JSON integer in [lo, hi]. Fractions, exponents, leading zeros and overflow are
// left to the general decoder.
func (d *fastDecoder) int(lo, hi int) (int, bool) {
	d.skipSpace()
	neg := false
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		neg = true
		d.pos++
	}
	start := d.pos
	var u uint64
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		if d.pos-start >= 18 { // past 18 digits overflow is possible; let encoding/json judge
			return 0, false
		}
		u = u*10 + uint64(d.data[d.pos]-'0')
		d.pos++
	}
	digits := d.pos - start
	if digits == 0 || (digits > 1 && d.data[start] == '0') {
		return 0, false
	}
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	v := int(u)
	if neg {
		v = -v
	}
	if v < lo || v > hi {
		return 0, false
	}
	return v, true
}

// payload decodes the Payload value (null or base64) into the reused storage.
func (d *fastDecoder) payload(m *Message) bool {
	d.skipSpace()
	if d.pos+4 <= len(d.data) && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		m.Payload = nil
		return true
	}
	s, ok := d.str()
	if !ok {
		return false
	}
	// A CR or LF, which encoding/base64 would skip but a JSON string may not hold raw, is
	// refused here and left to the general decoder to reject.
	p, ok := appendDecodeBase64(d.buf[:0], s)
	if !ok {
		return false
	}
	if p == nil {
		p = []byte{} // "" decodes to an empty, not a nil, payload, as in encoding/json
	}
	m.Payload = p
	return true
}
