package bitcoin

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"testing"
	"time"
)

const benchMsg = "cmu440 distributed systems"

// plainLoop is the baseline the miner is judged against: a straightforward crypto/sha256 loop
// over the same strings, reusing one buffer.
func plainLoop(msg string, lower, upper uint64) (best uint64) {
	best = ^uint64(0)
	buf := make([]byte, 0, len(msg)+21)
	for n := lower; n <= upper; n++ {
		buf = append(append(buf[:0], msg...), ' ')
		buf = strconv.AppendUint(buf, n, 10)
		sum := sha256.Sum256(buf)
		if h := binary.BigEndian.Uint64(sum[:8]); h < best {
			best = h
		}
	}
	return best
}

// BenchmarkScan measures the miner's hash loop alone, in hashes per second on one core.
func BenchmarkScan(b *testing.B) {
	b.ReportAllocs()
	const chunk = 1 << 14
	var n uint64
	for b.Loop() {
		Scan(benchMsg, n, n+chunk-1, nil)
		n += chunk
	}
	b.ReportMetric(float64(b.N)*chunk/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkScanVsPlainSHA256 runs the miner's loop and the plain crypto/sha256 loop over the
// same nonces in one run and reports both rates and their ratio (target: >= 0.9).
func BenchmarkScanVsPlainSHA256(b *testing.B) {
	const chunk = 1 << 14
	var scanTime, plainTime time.Duration
	var n uint64
	for b.Loop() {
		start := time.Now()
		Scan(benchMsg, n, n+chunk-1, nil)
		scanTime += time.Since(start)
		start = time.Now()
		plainLoop(benchMsg, n, n+chunk-1)
		plainTime += time.Since(start)
		n += chunk
	}
	hashes := float64(b.N) * chunk
	b.ReportMetric(hashes/scanTime.Seconds(), "miner-hashes/s")
	b.ReportMetric(hashes/plainTime.Seconds(), "plain-hashes/s")
	b.ReportMetric(plainTime.Seconds()/scanTime.Seconds(), "x-plain")
}
