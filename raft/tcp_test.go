package raft

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ds440/internal/tcpserve/tcpservetest"
	"ds440/internal/testutil"
	"ds440/labrpc"
)

// node is one server of an in-process test or benchmark cluster, with whatever transport.
type node struct {
	rf      *Raft
	applyCh chan ApplyMsg
	srv     *TCPServer // nil on labrpc
	onApply atomic.Pointer[func(ApplyMsg)]
	applied atomic.Int64
	done    chan struct{}
}

// cluster runs n servers over labrpc or TCP loopback with memory persisters. Every server's
// apply loop snapshots every snapEvery commands so the log stays short.
type cluster struct {
	tb      testing.TB
	nodes   []*node
	net     *labrpc.Network
	tcp     []*TCPPeer
	calls   atomic.Int64
	wg      sync.WaitGroup
	stopped bool
}

// countingPeer counts the RPCs sent, for the per-commit RPC figure.
type countingPeer struct {
	Peer
	n *atomic.Int64
}

func (p countingPeer) Call(m string, args, reply any) bool {
	p.n.Add(1)
	return p.Peer.Call(m, args, reply)
}

// CallContext keeps the wrapped peer's ability to abandon calls.
func (p countingPeer) CallContext(ctx context.Context, m string, args, reply any) bool {
	p.n.Add(1)
	if cp, ok := p.Peer.(contextPeer); ok {
		return cp.CallContext(ctx, m, args, reply)
	}
	return p.Peer.Call(m, args, reply)
}

func newCluster(tb testing.TB, n int, transport string, snapEvery int, persister func(i int) Persister) *cluster {
	tb.Helper()
	c := &cluster{tb: tb}
	peersOf := make([][]Peer, n)
	var lns []net.Listener
	switch transport {
	case "labrpc":
		c.net = labrpc.MakeNetwork()
		for i := range n {
			peersOf[i] = make([]Peer, n)
			for j := range n {
				name := fmt.Sprintf("%d-%d", i, j)
				end := c.net.MakeEnd(name)
				c.net.Connect(name, j)
				c.net.Enable(name, true)
				peersOf[i][j] = countingPeer{end, &c.calls}
			}
		}
	case "tcp":
		addrs := make([]string, n)
		for i := range n {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				tb.Fatal(err)
			}
			lns = append(lns, ln)
			addrs[i] = ln.Addr().String()
		}
		for i := range n {
			peersOf[i] = make([]Peer, n)
			for j := range n {
				p := NewTCPPeer(addrs[j], 0)
				c.tcp = append(c.tcp, p)
				peersOf[i][j] = countingPeer{p, &c.calls}
			}
		}
	default:
		tb.Fatalf("unknown transport %q", transport)
	}
	for i := range n {
		nd := &node{applyCh: make(chan ApplyMsg, 1024), done: make(chan struct{})}
		rf, err := New(Config{Peers: peersOf[i], Me: i, Persister: persister(i), ApplyCh: nd.applyCh})
		if err != nil {
			tb.Fatal(err)
		}
		nd.rf = rf
		if c.net != nil {
			srv := labrpc.MakeServer()
			srv.AddService(labrpc.MakeService(rf))
			c.net.AddServer(i, srv)
		} else {
			if nd.srv, err = ServeTCP(lns[i], rf); err != nil {
				tb.Fatal(err)
			}
		}
		c.nodes = append(c.nodes, nd)
		c.wg.Add(1)
		go c.drain(nd, snapEvery)
	}
	tb.Cleanup(c.stop)
	return c
}

func (c *cluster) drain(nd *node, snapEvery int) {
	defer c.wg.Done()
	for {
		select {
		case <-nd.done:
			return
		case m := <-nd.applyCh:
			if f := nd.onApply.Load(); f != nil {
				(*f)(m)
			}
			if m.CommandValid {
				if int64(m.CommandIndex) != nd.applied.Load()+1 {
					c.tb.Errorf("server %d applied %d after %d", nd.rf.me, m.CommandIndex, nd.applied.Load())
				}
				nd.applied.Store(int64(m.CommandIndex))
				if snapEvery > 0 && m.CommandIndex%snapEvery == 0 {
					nd.rf.Snapshot(m.CommandIndex, []byte(fmt.Sprint(m.CommandIndex)))
				}
			}
			if m.SnapshotValid {
				nd.applied.Store(int64(m.SnapshotIndex))
			}
		}
	}
}

// kill stops server i as a crash would: no more RPCs in or out.
func (c *cluster) kill(i int) {
	nd := c.nodes[i]
	if c.net != nil {
		c.net.DeleteServer(i)
	} else {
		nd.srv.Close()
	}
	nd.rf.Kill()
	close(nd.done)
}

func (c *cluster) stop() {
	if c.stopped {
		return
	}
	c.stopped = true
	for i, nd := range c.nodes {
		select {
		case <-nd.done:
		default:
			c.kill(i)
		}
	}
	for _, p := range c.tcp {
		p.Close()
	}
	if c.net != nil {
		c.net.Cleanup()
	}
	c.wg.Wait()
}

// leader waits for exactly one live leader and returns its index.
func (c *cluster) leader(timeout time.Duration) int {
	c.tb.Helper()
	found := -1
	testutil.Eventually(c.tb, timeout, func() bool {
		found = -1
		for i, nd := range c.nodes {
			if _, isLeader := nd.rf.GetState(); isLeader && !nd.rf.Killed() {
				if found >= 0 {
					return false
				}
				found = i
			}
		}
		return found >= 0
	}, "no single leader")
	return found
}

func TestTCPClusterFailover(t *testing.T) {
	testutil.CheckGoroutines(t)
	c := newCluster(t, 3, "tcp", 0, func(int) Persister { return NewMemoryPersister() })
	l := c.leader(5 * time.Second)
	commit := func(l int, cmd string) int {
		idx, _, ok := c.nodes[l].rf.Start(cmd)
		if !ok {
			t.Fatalf("server %d is not the leader", l)
		}
		return idx
	}
	var last int
	for i := range 5 {
		last = commit(l, fmt.Sprint("a", i))
	}
	testutil.Eventually(t, 5*time.Second, func() bool {
		for _, nd := range c.nodes {
			if nd.applied.Load() < int64(last) {
				return false
			}
		}
		return true
	}, "all servers apply %d", last)

	start := time.Now()
	c.kill(l)
	nl := c.leader(5 * time.Second)
	if nl == l {
		t.Fatal("the killed server still leads")
	}
	t.Logf("new leader %d after %v", nl, time.Since(start))
	last = commit(nl, "after")
	testutil.Eventually(t, 5*time.Second, func() bool {
		n := 0
		for i, nd := range c.nodes {
			if i != l && nd.applied.Load() >= int64(last) {
				n++
			}
		}
		return n == 2
	}, "the survivors apply %d", last)
	c.stop()
}

func TestTCPPeerUnreachableIsBounded(t *testing.T) {
	testutil.CheckGoroutines(t)
	port := testutil.FreePort(t)
	p := NewTCPPeer(fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	defer p.Close()
	testutil.Within(t, 2*time.Second, "call to nobody", func() {
		if p.Call(methodRequestVote, &RequestVoteArgs{}, &RequestVoteReply{}) {
			t.Error("a call to nobody succeeded")
		}
	})
	// A listener that never answers: the call times out.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	q := NewTCPPeer(ln.Addr().String(), 200*time.Millisecond)
	testutil.Within(t, 2*time.Second, "call to a mute server", func() {
		if q.Call(methodRequestVote, &RequestVoteArgs{}, &RequestVoteReply{}) {
			t.Error("a call to a mute server succeeded")
		}
	})
	q.Close()
	q.Close()
	if q.Call(methodRequestVote, &RequestVoteArgs{}, &RequestVoteReply{}) {
		t.Error("a call after Close succeeded")
	}
	// A call abandoned through its context returns then, long before the peer's timeout.
	r := NewTCPPeer(ln.Addr().String(), time.Hour)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	testutil.Within(t, 10*time.Second, "an abandoned call to a mute server", func() {
		if r.CallContext(ctx, methodRequestVote, &RequestVoteArgs{}, &RequestVoteReply{}) {
			t.Error("an abandoned call succeeded")
		}
	})
}

func TestTCPServerKilledRaftAndClose(t *testing.T) {
	testutil.CheckGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rf, err := New(Config{Peers: []Peer{nil, nil, nil}, Me: 0, Persister: NewMemoryPersister(),
		ApplyCh: make(chan ApplyMsg, 1), ElectionTimeout: time.Hour, HeartbeatInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ServeTCP(ln, rf)
	if err != nil {
		t.Fatal(err)
	}
	p := NewTCPPeer(srv.Addr().String(), time.Second)
	defer p.Close()
	var reply RequestVoteReply
	if !p.Call(methodRequestVote, &RequestVoteArgs{Term: 1, CandidateID: 1}, &reply) || !reply.VoteGranted {
		t.Fatalf("vote over TCP: %+v", reply)
	}
	rf.Kill()
	reply = RequestVoteReply{}
	if p.Call(methodRequestVote, &RequestVoteArgs{Term: 2, CandidateID: 2}, &reply) {
		t.Fatalf("a killed server answered: %+v", reply)
	}
	// The server error left the connection usable; closing the server ends it.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if p.Call(methodRequestVote, &RequestVoteArgs{Term: 3, CandidateID: 2}, &RequestVoteReply{}) {
		t.Fatal("a closed server answered")
	}
}

// TestKillWithStalledService fills a leader's apply channel while its service is stuck, so
// whichever goroutine is delivering blocks on it; Kill must still return at once and leave no
// goroutine behind, and nothing may be delivered after it.
func TestKillWithStalledService(t *testing.T) {
	t.Run("tcp", func(t *testing.T) {
		testutil.CheckGoroutines(t)
		killWithStalledService(t, "tcp")
	})
	t.Run("labrpc", func(t *testing.T) {
		simulate(t, func(t *testing.T) { killWithStalledService(t, "labrpc") })
	})
}

func killWithStalledService(t *testing.T, transport string) {
	c := newCluster(t, 3, transport, 0, func(int) Persister { return NewMemoryPersister() })
	l := c.leader(10 * time.Second)
	nd := c.nodes[l]
	stuck, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook := func(ApplyMsg) {
		once.Do(func() { close(stuck) })
		<-release
	}
	nd.onApply.Store(&hook)
	defer close(release)
	want := cap(nd.applyCh) + 100
	for i := range want {
		if _, _, ok := nd.rf.Start(i); !ok {
			t.Fatal("lost leadership")
		}
	}
	<-stuck
	testutil.Eventually(t, 10*time.Second, func() bool {
		return nd.rf.Status().CommitIndex >= want && len(nd.applyCh) == cap(nd.applyCh)
	}, "the leader did not commit and fill its apply channel")
	killed := make(chan struct{})
	go func() { c.kill(l); close(killed) }()
	select {
	case <-killed:
	case <-time.After(5 * time.Second):
		c.stopped = true // the cluster cannot be torn down past a hung Kill
		t.Fatal("Kill hung behind a stalled service")
	}
	if n := len(nd.applyCh); n != cap(nd.applyCh) {
		t.Fatalf("apply channel changed to %d after Kill", n)
	}
}

// TestTCPServerSurvivesAcceptErrors: Accept failing for a while (out of file descriptors) is
// retried after a back-off, not the end of the service, as it was before the server used
// tcpserve.
func TestTCPServerSurvivesAcceptErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rf, err := New(Config{Peers: []Peer{nil, nil, nil}, Me: 0, Persister: NewMemoryPersister(),
		ApplyCh: make(chan ApplyMsg, 1), ElectionTimeout: time.Hour, HeartbeatInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Kill()
	srv, err := ServeTCP(tcpservetest.Wrap(ln, 5), rf)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	p := NewTCPPeer(srv.Addr().String(), 10*time.Second)
	defer p.Close()
	var reply RequestVoteReply
	if !p.Call(methodRequestVote, &RequestVoteArgs{Term: 1, CandidateID: 1}, &reply) || !reply.VoteGranted {
		t.Fatalf("no vote over TCP after five failed Accepts: %+v", reply)
	}
}
