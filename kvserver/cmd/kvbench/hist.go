package main

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power-of-two range of latencies is split into
// 2^subBits buckets, so a reported percentile is within 1/64 (1.6%) of the true value.
const subBits = 6

// histogram counts latencies in log-linear buckets, like HdrHistogram: constant relative
// precision from a nanosecond to hours in a few thousand counters, and O(1) to record, so
// recording never disturbs the measurement. The zero value is empty and ready to use.
type histogram struct {
	counts [(64-subBits-1)<<subBits + 1<<(subBits+1)]uint64
	n      uint64
	sum    uint64
	max    uint64
}

// bucketOf returns the bucket holding v. Values below 2^(subBits+1) have a bucket each.
func bucketOf(v uint64) int {
	if v < 1<<(subBits+1) {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	return shift<<subBits + int(v>>shift)
}

// bucketMax returns the largest value bucket i holds.
func bucketMax(i int) uint64 {
	if i < 1<<(subBits+1) {
		return uint64(i)
	}
	shift := i>>subBits - 1
	m := uint64(i - shift<<subBits)
	return (m+1)<<shift - 1
}

// record adds one latency.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += v
	h.max = max(h.max, v)
}

// merge adds every latency of o to h.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// count returns how many latencies were recorded.
func (h *histogram) count() uint64 { return h.n }

// mean returns the mean latency, 0 if none was recorded.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}

// quantile returns the latency below or at which a fraction q (0..1) of the recorded ones
// fall: the upper end of the bucket holding that rank, never more than the largest recorded.
// It returns 0 if nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketMax(i), h.max))
		}
	}
	return time.Duration(h.max)
}
