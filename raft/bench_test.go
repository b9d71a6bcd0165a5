package raft

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"
)

// hashicorpAnchor holds the reference figures for hashicorp/raft on this class of
// machine (3 or 5 nodes in one process over its TCP transport on loopback, in-memory stores,
// 16-byte commands), keyed like our sub-benchmarks. It cannot run here (standard library only),
// so the ratio is against the recorded figure.
var hashicorpAnchor = map[string]float64{
	"tcp/peers=3/inflight=256": 105000,
	"tcp/peers=3/inflight=1":   20000,
	"tcp/peers=5/inflight=256": 67000,
}

// BenchmarkCommit measures committed entries per second and commit latency (Start to the
// leader's apply) for 16-byte commands, with `inflight` Starts outstanding at a time, over
// labrpc and over TCP loopback, with memory persisters (and one file-persister case).
func BenchmarkCommit(b *testing.B) {
	for _, tr := range []string{"labrpc", "tcp"} {
		for _, peers := range []int{3, 5} {
			for _, inflight := range []int{1, 256} {
				name := fmt.Sprintf("%s/peers=%d/inflight=%d", tr, peers, inflight)
				b.Run(name, func(b *testing.B) {
					rate := benchCommit(b, tr, peers, inflight, func(int) Persister { return NewMemoryPersister() })
					if anchor, ok := hashicorpAnchor[name]; ok {
						b.ReportMetric(rate/anchor, "x-baseline")
					}
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

// benchCommit runs b.N commands through a fresh cluster and returns the commit rate.
func benchCommit(b *testing.B, transport string, peers, inflight int, persister func(int) Persister) float64 {
	c := newCluster(b, peers, transport, 1000, persister)
	l := c.leader(10 * time.Second)
	rf := c.nodes[l].rf

	starts := make([]time.Time, b.N+1)
	lat := make([]time.Duration, 0, b.N)
	sem := make(chan struct{}, inflight)
	done := make(chan struct{})
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
	bytes0 := c.bytesSent()

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

	slices.Sort(lat)
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "commits/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(c.calls.Load()-rpcs0)/float64(b.N), "rpcs/commit")
	b.ReportMetric(float64(c.bytesSent()-bytes0)/float64(b.N), "bytes/commit")
	return rate
}

// bytesSent is the request bytes the cluster has put on its network so far.
func (c *cluster) bytesSent() int64 {
	if c.net != nil {
		return c.net.GetTotalBytes()
	}
	var n int64
	for _, p := range c.tcp {
		n += p.BytesSent()
	}
	return n
}
