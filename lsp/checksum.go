package lsp

import (
	"encoding/binary"
	"math/bits"
)

// CalculateChecksum is the 16-bit one's-complement sum (RFC 1071 style, carries folded back)
// of: connID, seqNum and size, each taken as a 32-bit unsigned value split into two 16-bit
// words (high word first), then the payload as big-endian 16-bit words (an odd last byte is
// the high byte of a final word). The result is the folded sum itself (not complemented).
//
// The sum is computed 64 bits at a time: since 2^16 ≡ 1 modulo 2^16-1, adding wider
// big-endian words (with the end-around carry) and folding at the end gives the same result
// as adding 16-bit words one by one, and it is several times faster on long payloads.
func CalculateChecksum(connID, seqNum, size int, payload []byte) uint16 {
	sum := uint64(uint32(connID)) + uint64(uint32(seqNum)) + uint64(uint32(size))
	// carries counts the overflows of sum; each stands for 2^64, which is 1 modulo 2^16-1.
	var carries, c uint64
	for len(payload) >= 32 {
		sum, c = bits.Add64(sum, binary.BigEndian.Uint64(payload[0:]), 0)
		carries += c
		sum, c = bits.Add64(sum, binary.BigEndian.Uint64(payload[8:]), 0)
		carries += c
		sum, c = bits.Add64(sum, binary.BigEndian.Uint64(payload[16:]), 0)
		carries += c
		sum, c = bits.Add64(sum, binary.BigEndian.Uint64(payload[24:]), 0)
		carries += c
		payload = payload[32:]
	}
	for len(payload) >= 8 {
		sum, c = bits.Add64(sum, binary.BigEndian.Uint64(payload), 0)
		carries += c
		payload = payload[8:]
	}
	// At most 7 bytes remain; pad them with zeros on the right to a big-endian word, which
	// also makes an odd last byte the high byte of its 16-bit word.
	var tail [8]byte
	copy(tail[:], payload)
	sum, c = bits.Add64(sum, binary.BigEndian.Uint64(tail[:]), 0)
	carries += c
	sum, c = bits.Add64(sum, carries, 0)
	return fold(sum + c) // c == 1 only if sum wrapped to a small value, so this cannot overflow
}

// fold reduces a wide one's-complement sum to 16 bits, adding the carries back in.
func fold(sum uint64) uint16 {
	sum = (sum >> 32) + (sum & 0xffffffff)
	sum = (sum >> 32) + (sum & 0xffffffff)
	sum = (sum >> 16) + (sum & 0xffff)
	sum = (sum >> 16) + (sum & 0xffff)
	sum = (sum >> 16) + (sum & 0xffff)
	return uint16(sum)
}
