package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	// Every value falls in a bucket whose range holds it, and bucket ranges are contiguous.
	for _, v := range []uint64{0, 1, 63, 64, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<20 + 12345, math.MaxUint64 >> 1, math.MaxUint64} {
		i := bucketOf(v)
		if v > bucketMax(i) || (i > 0 && v <= bucketMax(i-1)) {
			t.Errorf("value %d in bucket %d holding (%d, %d]", v, i, bucketMax(i-1), bucketMax(i))
		}
	}
	var h histogram
	if last := bucketOf(math.MaxUint64); last != len(h.counts)-1 {
		t.Errorf("the largest value is in bucket %d of %d", last, len(h.counts))
	}
	for i := 1; i < len(h.counts); i++ {
		if bucketOf(bucketMax(i-1)+1) != i {
			t.Fatalf("bucket %d does not start right after bucket %d", i, i-1)
		}
	}
}

func TestQuantiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		vals []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{42}, 0.99, 42},
		{"small exact p50", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.5, 5},
		{"small exact p99", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.99, 10},
		{"q zero is the minimum", []time.Duration{7, 3, 9}, 0, 3},
		{"q one is the maximum", []time.Duration{7, 3, 9}, 1, 9},
		{"capped at max", []time.Duration{1000}, 0.5, 1000},
	} {
		var h histogram
		for _, v := range tc.vals {
			h.record(v)
		}
		if got := h.quantile(tc.q); got != tc.want {
			t.Errorf("%s: quantile(%v) = %v, want %v", tc.name, tc.q, got, tc.want)
		}
	}
}

func TestQuantilesWithinPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a, b histogram
	var all []time.Duration
	for i := range 20000 {
		// Log-normal-ish latencies from a microsecond to a second.
		d := time.Duration(math.Exp(rng.Float64()*14) * 1000)
		all = append(all, d)
		if i%2 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	a.merge(&b)
	slices.Sort(all)
	if a.count() != uint64(len(all)) || a.quantile(1) != all[len(all)-1] {
		t.Fatalf("merged count %d max %v, want %d and %v", a.count(), a.quantile(1), len(all), all[len(all)-1])
	}
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		got := a.quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/(1<<subBits) {
			t.Errorf("quantile(%v) = %v, exact %v: outside 1/%d", q, got, exact, 1<<subBits)
		}
	}
	var sum time.Duration
	for _, d := range all {
		sum += d
	}
	if m := sum / time.Duration(len(all)); a.mean() != m {
		t.Errorf("mean = %v, want %v", a.mean(), m)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h histogram
	for i := 0; b.Loop(); i++ {
		h.record(time.Duration(i * 997))
	}
}
