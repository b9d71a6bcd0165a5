package bitcoin

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
)

// Hash is SHA-256 of the string "<msg> <nonce>" (nonce in decimal), read as the big-endian
// uint64 of its first 8 bytes.
func Hash(msg string, nonce uint64) uint64 {
	buf := make([]byte, 0, len(msg)+21)
	buf = append(buf, msg...)
	buf = append(buf, ' ')
	buf = strconv.AppendUint(buf, nonce, 10)
	sum := sha256.Sum256(buf)
	return binary.BigEndian.Uint64(sum[:8])
}

// Scan returns the best (hash, nonce) over the nonces in [lower, upper] of msg. It is the
// miner's hot loop: the "<msg> " prefix is written once and the decimal nonce is advanced in
// place, so no iteration formats or allocates. stop, if non-nil, is polled every few thousand
// nonces; when it returns true Scan gives up and reports ok == false.
func Scan(msg string, lower, upper uint64, stop func() bool) (hash, nonce uint64, ok bool) {
	var d decimalCounter
	d.init(msg, lower)
	hash, nonce = ^uint64(0), lower
	for n := lower; ; n++ {
		sum := sha256.Sum256(d.buf)
		if h := binary.BigEndian.Uint64(sum[:8]); h < hash {
			hash, nonce = h, n // n only grows, so a tie never replaces the earlier nonce
		}
		if n == upper {
			return hash, nonce, true
		}
		if stop != nil && n&0xfff == 0xfff && stop() {
			return hash, nonce, false
		}
		d.increment()
	}
}

// decimalCounter holds "<msg> <n>" and increments n in place, in decimal, without formatting.
type decimalCounter struct {
	buf    []byte
	digits int // index of the nonce's first digit in buf
}

func (d *decimalCounter) init(msg string, n uint64) {
	d.buf = make([]byte, 0, len(msg)+1+20+1)
	d.buf = append(d.buf, msg...)
	d.buf = append(d.buf, ' ')
	d.digits = len(d.buf)
	d.buf = strconv.AppendUint(d.buf, n, 10)
}

// increment adds one to the decimal number at the end of buf, growing it by a digit on carry
// out (999 -> 1000). The capacity reserved in init covers every uint64.
func (d *decimalCounter) increment() {
	for i := len(d.buf) - 1; i >= d.digits; i-- {
		if d.buf[i] != '9' {
			d.buf[i]++
			return
		}
		d.buf[i] = '0'
	}
	// Every digit was 9: the number now starts with 1 and has one more digit.
	d.buf = append(d.buf, '0')
	d.buf[d.digits] = '1'
}
