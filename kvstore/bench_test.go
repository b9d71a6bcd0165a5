package kvstore

import (
	"ds440/internal/testutil"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func benchServers(b *testing.B, servers, actors int) ([]*Server, []string) {
	b.Helper()
	var all []*Server
	var descs, addrs []string
	for range servers {
		s, d, err := NewServer(0, actors, descs)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, s)
		descs = append(descs, d)
		addrs = append(addrs, s.QueryAddrs()...)
	}
	b.Cleanup(func() {
		for _, s := range all {
			s.Close()
		}
	})
	return all, addrs
}

// benchClient runs Get/Put from many goroutines (half each) through one Client spread over
// addrs, and reports operations per second.
func benchClient(b *testing.B, addrs []string) {
	c := NewClient(&roundRobin{addrs: addrs})
	defer c.Close()
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			key := fmt.Sprint("key", i%1000)
			var err error
			if i%2 == 0 {
				err = c.Put(key, "value")
			} else {
				_, _, err = c.Get(key)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkClientOneServer(b *testing.B) {
	_, addrs := benchServers(b, 1, 4)
	benchClient(b, addrs)
}

func BenchmarkClientCluster(b *testing.B) {
	_, addrs := benchServers(b, 2, 2)
	benchClient(b, addrs)
}

// BenchmarkConvergence times a Put on one server until it is read on the other (no artificial
// latency), and reports p50/p99 and the bytes each Put cost the link between the servers (its
// batch and the acknowledgement). Puts rotate over the writing server's four actors and each
// actor's Puts are spaced by more than syncInterval, so each shows the latency of a write that
// finds its actor's sync idle; back-to-back writes on one actor are batched and wait up to
// syncInterval by design. The wait for the interval is part of ns/op, so b.N stays small.
func BenchmarkConvergence(b *testing.B) {
	servers, _ := benchServers(b, 2, 4)
	var writers []*Client
	for _, addr := range servers[0].QueryAddrs() {
		c := NewClient(fixedRouter(addr))
		defer c.Close()
		writers = append(writers, c)
	}
	reader := NewClient(&roundRobin{addrs: servers[1].QueryAddrs()})
	defer reader.Close()
	wanBytes := func() int32 {
		return servers[0].ActorSystem().Stats().RemoteBytesReceived + servers[1].ActorSystem().Stats().RemoteBytesReceived
	}
	settled := func() bool { return servers[0].idle() && servers[1].idle() }
	if !testutil.WaitUntil(time.Minute, settled) { // the join's traffic is not measured
		b.Fatal("the servers did not settle")
	}
	last := make([]time.Time, len(writers))
	lat := make([]time.Duration, 0, b.N)
	before := wanBytes()
	b.ResetTimer()
	for i := range b.N {
		w := i % len(writers)
		time.Sleep(time.Until(last[w].Add(syncInterval + 10*time.Millisecond))) // real time: the benchmark measures a write that finds its actor's sync idle
		key := fmt.Sprint("conv", i)
		start := time.Now()
		last[w] = start
		if err := writers[w].Put(key, "v"); err != nil {
			b.Fatal(err)
		}
		for {
			if v, _, err := reader.Get(key); err != nil {
				b.Fatal(err)
			} else if v == "v" {
				break
			}
			time.Sleep(time.Millisecond) // real time: polling the far replica over TCP, whose latency is measured
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	if !testutil.WaitUntil(time.Minute, settled) { // the last acknowledgements
		b.Fatal("the servers did not settle")
	}
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2].Seconds()*1000, "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100].Seconds()*1000, "p99-ms")
	b.ReportMetric(float64(wanBytes()-before)/float64(b.N), "wan-bytes/put")
}

// BenchmarkPutPeerAcks runs Puts from 64 goroutines at a cluster of two servers of two actors
// over loopback, answered at once (PeerAcks 0, the contract's behaviour) and once the other
// server holds them (PeerAcks 1), in one run, and reports Puts per second and the mean
// latency of a Put. A replicated Put waits for the writer's next sync and the receiver's
// acknowledgement, each paced by syncInterval, so its latency is counted in sync intervals
// and its throughput comes from batching concurrent Puts.
func BenchmarkPutPeerAcks(b *testing.B) {
	for _, peerAcks := range []int{0, 1} {
		b.Run(fmt.Sprint("PeerAcks=", peerAcks), func(b *testing.B) {
			var addrs, descs []string
			for range 2 {
				s, err := New(Config{QueryActors: 2, Remotes: descs, PeerAcks: peerAcks})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(s.Close)
				descs = append(descs, s.Desc())
				addrs = append(addrs, s.QueryAddrs()...)
			}
			time.Sleep(100 * time.Millisecond) // real time: let the second server's join complete
			c := NewClient(&roundRobin{addrs: addrs})
			defer c.Close()
			var n, busy atomic.Int64
			b.SetParallelism(64 / max(1, runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					start := time.Now()
					if err := c.Put(fmt.Sprint("key", i%1000), "value"); err != nil {
						b.Error(err)
						return
					}
					busy.Add(int64(time.Since(start)))
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
			b.ReportMetric(float64(busy.Load())/float64(b.N)/1e6, "ms/put")
		})
	}
}
