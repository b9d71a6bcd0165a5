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
// base64.StdEncoding.AppendEncode appends (encoding/json's form of a []byte), six input bytes
// per step.
func appendBase64(dst, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	t := b64pairs
	i, o := 0, 0
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
