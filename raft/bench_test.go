package raft

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkCommit measures committed entries per second and commit latency (Start to the
// leader's apply) for 16-byte commands, with `inflight` Starts outstanding at a time, over
// labrpc and over TCP loopback, with memory persisters (and one file-persister case).
func BenchmarkCommit(b *testing.B) {
	for _, tr := range []string{"labrpc", "tcp"} {
		for _, peers := range []int{3, 5} {
			for _, inflight := range []int{1, 256} {
				b.Run(fmt.Sprintf("%s/peers=%d/inflight=%d", tr, peers, inflight), func(b *testing.B) {
					benchCommit(b, tr, peers, inflight, func(int) Persister { return NewMemoryPersister() })
				})
			}
		}
	}
	b.Run("tcp/peers=3/inflight=256/file", func(b *testing.B) {
		dir := b.TempDir()
		benchCommit(b, "tcp", 3, 256, func(i int) Persister {
			p, err := NewFilePersister(fmt.Sprintf("%s/%d", dir, i))
			if err != nil {
				b.Fatal(err)
			}
			return p
		})
	})
}

func benchCommit(b *testing.B, transport string, peers, inflight int, persister func(int) Persister) {
	c := newCluster(b, peers, transport, 1000, persister)
	l := c.leader(10 * time.Second)
	rf := c.nodes[l].rf

	starts := make([]time.Time, b.N+1)
	lat := make([]time.Duration, 0, b.N)
	sem := make(chan struct{}, inflight)
	done := make(chan struct{})
	base := 0
	hook := func(m ApplyMsg) {
		if !m.CommandValid {
			return
		}
		s, ok := m.Command.(string)
		if !ok {
			return
		}
		id, _ := strconv.Atoi(s)
		lat = append(lat, time.Since(starts[id]))
		<-sem
		if len(lat) == b.N {
			close(done)
		}
	}
	c.nodes[l].onApply.Store(&hook)
	rpcs0 := c.calls.Load()
	var bytes0 int64
	if c.net != nil {
		bytes0 = c.net.GetTotalBytes()
	}

	b.ResetTimer()
	t0 := time.Now()
	for i := 1; i <= b.N; i++ {
		sem <- struct{}{}
		starts[i] = time.Now()
		if _, _, ok := rf.Start(fmt.Sprintf("%016d", i)); !ok {
			b.Fatalf("leader %d lost leadership", l)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("only %d of %d committed", len(lat), b.N)
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	_ = base

	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commits/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(c.calls.Load()-rpcs0)/float64(b.N), "rpcs/commit")
	if c.net != nil {
		b.ReportMetric(float64(c.net.GetTotalBytes()-bytes0)/float64(b.N), "bytes/commit")
	}
}
