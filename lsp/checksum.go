package lsp

import (
	"encoding/binary"
	"math/bits"
)

// CalculateChecksum is the course's data checksum, bit for bit, so that ds440 and any
// course-conformant peer accept each other's data messages:
//  1. each of connID, seqNum and size, as a 32-bit unsigned value, contributes
//     (low 16 bits + high 16 bits) mod 2^16: that one addition's carry is dropped;
//  2. the payload contributes its 16-bit little-endian words (bytes 0-1, 2-3, ...); an odd
//     last byte is the low byte of a final word whose high byte is 0;
//  3. the contributions are summed in 32 bits, the part above 16 bits is folded back into the
//     low 16 bits until the sum fits, and the result is the one's complement of that sum.
//
// The payload is summed 64 bits at a time: the folded result depends only on the sum modulo
// 2^16-1 (and on whether it is zero), and 2^16 ≡ 1 modulo 2^16-1, so wider little-endian
// words with their carries added back give the same result as 16-bit words one by one.
// That holds while the 32-bit sum of step 3 cannot wrap; longer payloads take the word loop.
func CalculateChecksum(connID, seqNum, size int, payload []byte) uint16 {
	sum := uint64(headerWord(connID)) + uint64(headerWord(seqNum)) + uint64(headerWord(size))
	if len(payload) > maxFastPayload {
		return ^fold32(sum32(uint32(sum), payload))
	}
	// carries counts the overflows of sum; each stands for 2^64, which is 1 modulo 2^16-1.
	var carries, c uint64
	for len(payload) >= 32 {
		sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(payload[0:]), 0)
		carries += c
		sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(payload[8:]), 0)
		carries += c
		sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(payload[16:]), 0)
		carries += c
		sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(payload[24:]), 0)
		carries += c
		payload = payload[32:]
	}
	for len(payload) >= 8 {
		sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(payload), 0)
		carries += c
		payload = payload[8:]
	}
	// At most 7 bytes remain; pad them with zeros to a little-endian word, which also makes
	// an odd last byte the low byte of its 16-bit word.
	var tail [8]byte
	copy(tail[:], payload)
	sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(tail[:]), 0)
	carries += c
	sum, c = bits.Add64(sum, carries, 0)
	return ^fold(sum + c) // c == 1 only if sum wrapped to a small value, so this cannot overflow
}

// maxFastPayload is the longest payload whose 16-bit words, with the three header words, sum
// to less than 2^32, so that step 3's 32-bit sum cannot wrap.
const maxFastPayload = 2 * ((1<<32-1)/0xffff - 3)

// headerWord is one header field's contribution: its two 16-bit halves added, carry dropped.
func headerWord(v int) uint16 {
	u := uint32(v)
	return uint16(u) + uint16(u>>16)
}

// sum32 adds payload's little-endian 16-bit words to sum in 32 bits, wrapping as the
// definition's 32-bit accumulator does.
func sum32(sum uint32, payload []byte) uint32 {
	for len(payload) >= 2 {
		sum += uint32(binary.LittleEndian.Uint16(payload))
		payload = payload[2:]
	}
	if len(payload) == 1 {
		sum += uint32(payload[0])
	}
	return sum
}

// fold32 folds a 32-bit sum into 16 bits, adding the part above back until it fits.
func fold32(sum uint32) uint16 {
	for sum > 0xffff {
		sum = (sum >> 16) + (sum & 0xffff)
	}
	return uint16(sum)
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
