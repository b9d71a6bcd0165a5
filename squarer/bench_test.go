package squarer_test

import (
	"testing"

	"ds440/squarer"
)

// sink keeps the compiler from optimising the baseline loop away.
var sink int

// squareLoop is the baseline: the same squares with no goroutine and no channel.
func squareLoop(n int) int {
	sum := 0
	for i := range n {
		sum += i * i
	}
	return sum
}

// BenchmarkSquarer measures one value through the squarer, sent and received by the same
// goroutine (roundtrip) or by a separate producer (stream), beside the goroutine-free loop
// measured first in the same run. x-baseline is how many times slower a squarer is than
// squaring in place: the price of two channel handoffs and goroutine switches per value.
func BenchmarkSquarer(b *testing.B) {
	var baseline float64 // ns per square of the loop, from its last (longest) run
	b.Run("loop", func(b *testing.B) {
		const batch = 1024
		for b.Loop() {
			sink += squareLoop(batch)
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N) / batch
		b.ReportMetric(baseline, "ns/square")
	})

	b.Run("roundtrip", func(b *testing.B) {
		sq := squarer.New()
		defer sq.Close()
		in := make(chan int)
		out := sq.Initialize(in)
		n := 0
		for b.Loop() {
			in <- n
			sink += <-out
			n++
		}
		report(b, n, baseline)
	})

	b.Run("stream", func(b *testing.B) {
		sq := squarer.New()
		defer sq.Close()
		in := make(chan int)
		out := sq.Initialize(in)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for n := 0; ; n++ {
				select {
				case in <- n:
				case <-stop:
					return
				}
			}
		}()
		n := 0
		for b.Loop() {
			sink += <-out
			n++
		}
		report(b, n, baseline)
	})
}

// report states the time per value and its ratio to the loop's time per square.
func report(b *testing.B, n int, baseline float64) {
	perValue := float64(b.Elapsed().Nanoseconds()) / float64(n)
	if baseline == 0 {
		b.Logf("squarer %.1f ns/value; run BenchmarkSquarer/loop too for the ratio", perValue)
		return
	}
	b.ReportMetric(perValue/baseline, "x-baseline")
	b.Logf("squarer %.1f ns/value, loop %.2f ns/square: %.0fx", perValue, baseline, perValue/baseline)
}
