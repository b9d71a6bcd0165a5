package raft

import (
	"fmt"
	"io"
	"net"
	"net/rpc"
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
// labrpc and over TCP loopback, with memory persisters (and one file-persister case), and the
// CPU time the whole cluster spends per commit.
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
			b.Cleanup(func() { p.Close() })
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

	// A leader that loses its place mid-run (an election on a starved machine) never applies
	// what it took, so waiting for a free slot is bounded too.
	stuck := time.NewTimer(time.Minute)
	defer stuck.Stop()
	b.ResetTimer()
	t0, cpu0 := time.Now(), processCPU()
	for i := 1; i <= b.N; i++ {
		select {
		case sem <- struct{}{}:
		case <-stuck.C:
			b.Fatalf("only %d of %d committed: the leader stopped applying", len(lat), b.N)
		}
		starts[i] = time.Now()
		if _, _, ok := rf.Start(fmt.Sprintf("%016d", i)); !ok {
			b.Fatalf("leader %d lost leadership", l)
		}
	}
	select {
	case <-done:
	case <-stuck.C:
		b.Fatalf("only %d of %d committed", len(lat), b.N)
	}
	elapsed, cpu := time.Since(t0), processCPU()-cpu0
	b.StopTimer()

	slices.Sort(lat)
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "commits/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(c.calls.Load()-rpcs0)/float64(b.N), "rpcs/commit")
	b.ReportMetric(float64(c.bytesSent()-bytes0)/float64(b.N), "bytes/commit")
	if cpu > 0 {
		b.ReportMetric(cpu.Seconds()*1e6/float64(b.N), "cpu-us/commit")
	}
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

// voteService answers RequestVote at once, for transport benchmarks without a Raft behind them.
type voteService struct{}

func (voteService) RequestVote(args *RequestVoteArgs, reply *RequestVoteReply) error {
	*reply = RequestVoteReply{Term: args.Term, VoteGranted: true}
	return nil
}

// BenchmarkRPCRoundTrip times one RequestVote round trip on loopback three ways in one run,
// interleaved: net/rpc with our codec, net/rpc with gob (its default), and the floor, a raw TCP
// ping-pong of 64 bytes. It reports each in µs and the codec's speed-up over gob (x-gob).
func BenchmarkRPCRoundTrip(b *testing.B) {
	serve := func(codec bool) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ln.Close() })
		srv := rpc.NewServer()
		if err := srv.RegisterName("Raft", voteService{}); err != nil {
			b.Fatal(err)
		}
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				if codec {
					go srv.ServeCodec(newServerCodec(conn))
				} else {
					go srv.ServeConn(conn)
				}
			}
		}()
		return ln.Addr().String()
	}
	dial := func(addr string) net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		return conn
	}
	ours := rpc.NewClientWithCodec(newClientCodec(dial(serve(true))))
	theirs := rpc.NewClient(dial(serve(false)))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(conn, buf); err != nil {
				return
			}
			if _, err := conn.Write(buf); err != nil {
				return
			}
		}
	}()
	raw := dial(ln.Addr().String())
	ping := make([]byte, 64)

	args := &RequestVoteArgs{Term: 7, CandidateID: 1, LastLogIndex: 1000, LastLogTerm: 6}
	var tOurs, tTheirs, tRaw time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		var r1, r2 RequestVoteReply
		if err := ours.Call(methodRequestVote, args, &r1); err != nil || !r1.VoteGranted {
			b.Fatal("codec call:", err)
		}
		t1 := time.Now()
		if err := theirs.Call(methodRequestVote, args, &r2); err != nil || !r2.VoteGranted {
			b.Fatal("gob call:", err)
		}
		t2 := time.Now()
		if _, err := raw.Write(ping); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(raw, ping); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		tOurs, tTheirs, tRaw = tOurs+t1.Sub(t0), tTheirs+t2.Sub(t1), tRaw+t3.Sub(t2)
	}
	b.StopTimer()
	ours.Close()
	theirs.Close()
	us := func(d time.Duration) float64 { return d.Seconds() * 1e6 / float64(b.N) }
	b.ReportMetric(us(tOurs), "codec-us")
	b.ReportMetric(us(tTheirs), "gob-us")
	b.ReportMetric(us(tRaw), "raw-tcp-us")
	b.ReportMetric(float64(tTheirs)/float64(tOurs), "x-gob")
}
