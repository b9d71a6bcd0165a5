package linearize

import "math/bits"

// bitset is the set of operations linearized so far, one bit per operation.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int) { b[i/64] |= 1 << (i % 64) }

func (b bitset) clone() bitset { return append(bitset(nil), b...) }

func (b bitset) equal(c bitset) bool {
	for i := range b {
		if b[i] != c[i] {
			return false
		}
	}
	return true
}

// hash mixes every word; two equal sets hash alike.
func (b bitset) hash() uint64 {
	h := uint64(14695981039346656037)
	for _, w := range b {
		h ^= w
		h *= 1099511628211
		h = bits.RotateLeft64(h, 29)
	}
	return h
}
