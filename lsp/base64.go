package lsp

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
)

// b64pairs maps every 12-bit value to its two characters in standard base64, the first in the
// high byte, so that encoding takes one lookup per two characters instead of one per
// character. It is filled once and only read.
var b64pairs = func() *[1 << 12]uint16 {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var t [1 << 12]uint16
	for v := range t {
		t[v] = uint16(alphabet[v>>6])<<8 | uint16(alphabet[v&63])
	}
	return &t
}()

// appendBase64 appends the standard, padded base64 encoding of src to dst, byte for byte what
// base64.StdEncoding.AppendEncode appends (encoding/json's form of a []byte), twelve input
// bytes per step while they last.
func appendBase64(dst, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	t := b64pairs
	i, o := 0, 0
	for ; i+14 <= len(src); i, o = i+12, o+16 { // twelve bytes per step, two loads of eight
		s := src[i : i+14]
		x, y := binary.BigEndian.Uint64(s), binary.BigEndian.Uint64(s[6:])
		binary.BigEndian.PutUint64(out[o:], uint64(t[x>>52])<<48|uint64(t[x>>40&0xfff])<<32|
			uint64(t[x>>28&0xfff])<<16|uint64(t[x>>16&0xfff]))
		binary.BigEndian.PutUint64(out[o+8:], uint64(t[y>>52])<<48|uint64(t[y>>40&0xfff])<<32|
			uint64(t[y>>28&0xfff])<<16|uint64(t[y>>16&0xfff]))
	}
	for ; i+8 <= len(src); i, o = i+6, o+8 { // loads 8 bytes, encodes the first 6
		x := binary.BigEndian.Uint64(src[i:])
		binary.BigEndian.PutUint64(out[o:], uint64(t[x>>52])<<48|uint64(t[x>>40&0xfff])<<32|
			uint64(t[x>>28&0xfff])<<16|uint64(t[x>>16&0xfff]))
	}
	for ; i+3 <= len(src); i, o = i+3, o+4 {
		x := uint(src[i])<<16 | uint(src[i+1])<<8 | uint(src[i+2])
		binary.BigEndian.PutUint16(out[o:], t[x>>12])
		binary.BigEndian.PutUint16(out[o+2:], t[x&0xfff])
	}
	if i < len(src) {
		base64.StdEncoding.Encode(out[o:], src[i:]) // the last one or two bytes, padded
	}
	return dst[:len(dst)+n]
}

// b64quads maps a character at each position of a four-character group to its six bits in
// place within the group's 24, so that a group decodes as the OR of four lookups; a character
// outside the alphabet has bit 31 set instead, which survives the OR. Filled once, only read.
var b64quads = func() *[4][256]uint32 {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var t [4][256]uint32
	for k := range t {
		for c := range t[k] {
			t[k][c] = 1 << 31
		}
		for v := range len(alphabet) {
			t[k][alphabet[v]] = uint32(v) << (18 - 6*k)
		}
	}
	return &t
}()

// appendDecodeBase64 appends the decoding of src, standard padded base64 with nothing else in
// it (no line breaks), to dst. It accepts exactly the inputs of that form that
// base64.StdEncoding accepts and decodes them alike; ok is false for anything else.
func appendDecodeBase64(dst, src []byte) (out []byte, ok bool) {
	if len(src)%4 != 0 {
		return dst, false
	}
	if len(src) == 0 {
		return dst, true
	}
	// Every group but the last holds four characters of the alphabet.
	body, last := src[:len(src)-4], src[len(src)-4:]
	n := len(body) / 4 * 3
	dst = slices.Grow(dst, n+3+2) // two spare bytes: the first loop stores eight bytes per six
	buf := dst[len(dst) : len(dst)+n+3+2]
	t := b64quads
	var bad uint32
	i, o := 0, 0
	for ; i+16 <= len(body); i, o = i+16, o+12 {
		s := body[i : i+16]
		a := t[0][s[0]] | t[1][s[1]] | t[2][s[2]] | t[3][s[3]]
		b := t[0][s[4]] | t[1][s[5]] | t[2][s[6]] | t[3][s[7]]
		c := t[0][s[8]] | t[1][s[9]] | t[2][s[10]] | t[3][s[11]]
		d := t[0][s[12]] | t[1][s[13]] | t[2][s[14]] | t[3][s[15]]
		bad |= a | b | c | d
		binary.BigEndian.PutUint64(buf[o:], uint64(a)<<40|uint64(b)<<16)
		binary.BigEndian.PutUint64(buf[o+6:], uint64(c)<<40|uint64(d)<<16)
	}
	for ; i < len(body); i, o = i+4, o+3 {
		s := body[i : i+4]
		a := t[0][s[0]] | t[1][s[1]] | t[2][s[2]] | t[3][s[3]]
		bad |= a
		buf[o], buf[o+1], buf[o+2] = byte(a>>16), byte(a>>8), byte(a)
	}
	// The last group: four characters, or two or three and padding to four. As in
	// encoding/base64 (not strict), bits past the last whole byte are ignored.
	a, k := t[0][last[0]]|t[1][last[1]], 1
	switch {
	case last[3] != '=':
		a, k = a|t[2][last[2]]|t[3][last[3]], 3
	case last[2] != '=':
		a, k = a|t[2][last[2]], 2
	}
	if (bad|a)>>31 != 0 {
		return dst, false
	}
	buf[o], buf[o+1], buf[o+2] = byte(a>>16), byte(a>>8), byte(a)
	return dst[:len(dst)+o+k], true
}
