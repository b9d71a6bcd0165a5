package kvstore

import (
	"ds440/actor"
	"errors"
	"fmt"
	"net/rpc"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
)

// fixedRouter always answers the same address.
type fixedRouter string

func (r fixedRouter) NextAddr() string { return string(r) }

// roundRobin cycles through addresses; safe for concurrent use.
type roundRobin struct {
	addrs []string
	next  atomic.Uint64
}

func (r *roundRobin) NextAddr() string {
	return r.addrs[(r.next.Add(1)-1)%uint64(len(r.addrs))]
}

// testCluster is a cluster of servers on an in-memory network, for tests that run inside a
// synctest bubble: timers and latency cost no real time, and the bubble checks that nothing is
// left running when the test ends.
type testCluster struct {
	t       *testing.T
	network *actor.InmemNetwork
	faults  actor.Faults // of every server's actor system
	clock   *testClock
	servers []*Server
	descs   []string
	viaLast bool // a new server is told only of the one started last
	// idleBytes counts the bytes settle's questions to the query actors cost.
	idleBytes int32
	dropAfter time.Duration // Config.DropAfter of the servers started
	onError   func(error)   // Config.OnError of the servers started
	keepalive time.Duration // Config.KeepaliveInterval of the servers started
	peerAcks  int           // Config.PeerAcks of the servers started
}

// testClock is the servers' clock: the bubble's time, moved ahead by advance so that a Put is
// stamped later than the one before it without waiting for the next millisecond.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// newCluster returns an empty cluster; call it inside synctest.Test.
func newCluster(t *testing.T) *testCluster {
	c := &testCluster{t: t, network: actor.NewInmemNetwork(), clock: &testClock{}}
	t.Cleanup(func() {
		for _, s := range c.servers {
			s.Close()
		}
	})
	return c
}

// inBubble runs f in a synctest bubble, in parallel with the other tests of the package.
func inBubble(t *testing.T, f func(t *testing.T)) {
	t.Parallel()
	synctest.Test(t, f)
}

// start starts a server with n actors that joins every server started before it, or only
// the last one if c.viaLast.
func (c *testCluster) start(n int) *Server {
	c.t.Helper()
	descs := c.descs
	if c.viaLast && len(descs) > 1 {
		descs = descs[len(descs)-1:]
	}
	s, err := New(Config{Transport: c.network, Faults: c.faults, QueryActors: n, Remotes: descs, Clock: c.clock.now,
		DropAfter: c.dropAfter, OnError: c.onError, KeepaliveInterval: c.keepalive, PeerAcks: c.peerAcks})
	if err != nil {
		c.t.Fatal(err)
	}
	c.servers = append(c.servers, s)
	c.descs = append(c.descs, s.Desc())
	return s
}

// settle waits until no server has anything left to send: the sync of every past write is
// over. It asks the query actors between bursts of activity, when everything that can run at
// this instant has run, so the bytes its questions cost are known exactly (idleBytes).
func (c *testCluster) settle() {
	c.t.Helper()
	poll := time.NewTicker(syncInterval / 3)
	defer poll.Stop()
	deadline := time.Now().Add(time.Minute)
	for {
		synctest.Wait()
		before := c.bytesSent()
		idle := true
		for _, s := range c.servers {
			idle = idle && s.idle()
		}
		c.idleBytes += c.bytesSent() - before
		if idle {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatal("the cluster did not settle within a minute")
		}
		<-poll.C // sync is periodic: there is no one event for "nothing left to send"
	}
}

// bytesSent is the BytesSent of every server.
func (c *testCluster) bytesSent() int32 {
	var n int32
	for _, s := range c.servers {
		n += s.ActorSystem().Stats().BytesSent
	}
	return n
}

// clients returns one client per query actor of s.
func (c *testCluster) clients(s *Server) []*Client {
	var cs []*Client
	for _, addr := range s.QueryAddrs() {
		cl := NewClientConfig(ClientConfig{Router: fixedRouter(addr), Transport: c.network})
		c.t.Cleanup(cl.Close)
		cs = append(cs, cl)
	}
	return cs
}

func mustPut(t *testing.T, c *Client, k, v string) {
	t.Helper()
	if err := c.Put(k, v); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, c *Client, k string) string {
	t.Helper()
	v, _, err := c.Get(k)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitVisible waits until every client reads value for key and fails if that takes longer than
// limit, the contract's bound.
func waitVisible(t *testing.T, cs []*Client, key, value string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for _, c := range cs {
		// Polling a replica: there is no event to wait on.
		if !testutil.WaitUntil(limit-time.Since(start), func() bool { return get(t, c, key) == value }) {
			t.Fatalf("%q=%q not visible everywhere after %v", key, value, limit)
		}
	}
	return time.Since(start)
}

// waitVisibleEvery is waitVisible for a huge key or value, where every read copies megabytes:
// it polls each replica every interval of the clock rather than every 2 ms.
func waitVisibleEvery(t *testing.T, cs []*Client, key, value string, limit, every time.Duration) {
	t.Helper()
	start := time.Now()
	poll := time.NewTicker(every)
	defer poll.Stop()
	for _, c := range cs {
		for get(t, c, key) != value {
			if time.Since(start) >= limit {
				t.Fatalf("%d-byte key, %d-byte value not visible everywhere after %v", len(key), len(value), limit)
			}
			<-poll.C // polling a replica: there is no event to wait on
		}
	}
}

func TestOneActorSemantics(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newCluster(t)
		s := c.start(1)
		cl := c.clients(s)[0]
		if v, ok, err := cl.Get("nope"); v != "" || ok || err != nil {
			t.Errorf("Get(absent) = %q, %v, %v", v, ok, err)
		}
		if m, err := cl.List("any"); m == nil || len(m) != 0 || err != nil {
			t.Errorf("List(empty) = %v, %v", m, err)
		}
		before := s.ActorSystem().Stats()
		mustPut(t, cl, "a/1", "x")
		mustPut(t, cl, "a/2", "y")
		mustPut(t, cl, "b", "z")
		mustPut(t, cl, "a/1", "x2")
		mustPut(t, cl, "empty", "")
		if v, ok, _ := cl.Get("a/1"); v != "x2" || !ok {
			t.Errorf("Get(a/1) = %q, %v", v, ok)
		}
		if v, ok, _ := cl.Get("empty"); v != "" || !ok {
			t.Errorf("Get(empty) = %q, %v; want present", v, ok)
		}
		if m, _ := cl.List("a/"); len(m) != 2 || m["a/1"] != "x2" || m["a/2"] != "y" {
			t.Errorf("List(a/) = %v", m)
		}
		if m, _ := cl.List(""); len(m) != 4 {
			t.Errorf("List() = %v", m)
		}
		queries := int32(9) // 5 puts, 2 gets, 2 lists
		// A channel ref is counted as used as it delivers, which can trail the RPC's return a little.
		testutil.Eventually(t, 2*time.Second, func() bool {
			return s.ActorSystem().Stats().ChannelRefsUsed-before.ChannelRefsUsed >= queries
		}, "a channel ref used per query")
		after := s.ActorSystem().Stats()
		if got := after.MessagesSentExternal - before.MessagesSentExternal; got < queries {
			t.Errorf("%d external tells for %d queries", got, queries)
		}
		if got := after.ChannelRefsUsed - before.ChannelRefsUsed; got != queries {
			t.Errorf("%d channel refs used for %d queries", got, queries)
		}
	})
}

func TestHugeValue(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newCluster(t)
		cl := c.clients(c.start(1))[0]
		big := string(make([]byte, 4<<20))
		mustPut(t, cl, "big", big)
		if got := get(t, cl, "big"); len(got) != len(big) {
			t.Errorf("got %d bytes back, want %d", len(got), len(big))
		}
	})
}

// TestLocalSync runs the sync scenarios inside one server of 2 and 4 actors: basic reach within
// 500 ms, last-writer-wins, delta-sized syncs, concurrent writers, and the message rate under
// a paced writer, each shape's scenarios sharing one server.
func TestLocalSync(t *testing.T) {
	for _, n := range []int{2, 4} {
		t.Run(fmt.Sprint(n, " actors"), func(t *testing.T) {
			inBubble(t, func(t *testing.T) {
				c := newCluster(t)
				s := c.start(n)
				cs := c.clients(s)
				for i, cl := range cs { // basic
					k := fmt.Sprint("basic/", i)
					mustPut(t, cl, k, "v")
					waitVisible(t, cs, k, "v", 500*time.Millisecond)
				}
				localLWW(t, c, cs)
				localSize(t, c, s, cs)
				localStress(t, cs)
				localFrequency(t, s, cs)
			})
		})
	}
}

func localLWW(t *testing.T, c *testCluster, cs []*Client) {
	a, b := cs[0], cs[len(cs)-1]
	mustPut(t, a, "lww", "first")
	c.clock.advance(time.Millisecond) // the next Put carries a later millisecond
	mustPut(t, a, "lww", "second")
	waitVisible(t, cs, "lww", "second", 500*time.Millisecond)

	// Overwrite by another actor.
	c.clock.advance(time.Millisecond)
	mustPut(t, b, "lww", "third")
	waitVisible(t, cs, "lww", "third", 500*time.Millisecond)

	// A re-put of the value that lost wins.
	mustPut(t, a, "lww", "second")
	waitVisible(t, cs, "lww", "second", 500*time.Millisecond)
}

// 300 Puts 10 ms apart must not push any actor over 10 messages per second to any target.
func localFrequency(t *testing.T, s *Server, cs []*Client) {
	pace := time.NewTicker(10 * time.Millisecond) // the scenario is a paced writer
	defer pace.Stop()
	for i := range 300 {
		mustPut(t, cs[i%len(cs)], fmt.Sprint("freq/", i), "v")
		<-pace.C
	}
	waitVisible(t, cs, "freq/299", "v", 500*time.Millisecond)
	if rate := s.ActorSystem().Stats().MaxMessageRate; rate > 10 {
		t.Errorf("MaxMessageRate = %.2f, want at most 10", rate)
	}
}

// syncBytes is the traffic it takes to spread one Put to every actor. No query runs while it
// measures, and settle's own questions are taken out, so only the Put and its sync are counted.
func syncBytes(t *testing.T, c *testCluster, s *Server, cs []*Client, key string) int32 {
	t.Helper()
	c.settle()
	before, idle := s.ActorSystem().Stats().BytesSent, c.idleBytes
	mustPut(t, cs[0], key, "v")
	c.settle()
	spent := s.ActorSystem().Stats().BytesSent - before - (c.idleBytes - idle)
	waitVisible(t, cs, key, "v", 500*time.Millisecond)
	return spent
}

// Syncs carry deltas: after 1,000 other Puts, spreading one more costs about the same.
func localSize(t *testing.T, c *testCluster, s *Server, cs []*Client) {
	round1 := syncBytes(t, c, s, cs, "size/first")
	for i := range 1000 {
		mustPut(t, cs[i%len(cs)], fmt.Sprint("size/filler", i), "some filler value")
	}
	waitVisible(t, cs, "size/filler999", "some filler value", 500*time.Millisecond)
	round2 := syncBytes(t, c, s, cs, "size/second")
	if round2 > 2*round1 {
		t.Errorf("round 2 cost %d bytes, round 1 %d: syncs grow with the store", round2, round1)
	}
}

func localStress(t *testing.T, cs []*Client) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if err := cs[(w+i)%len(cs)].Put(fmt.Sprint("stress/", i%10), fmt.Sprint(w, "-", i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	testutil.Eventually(t, 2*time.Second, func() bool {
		first, _ := cs[0].List("stress/")
		return len(first) == 10 && sameEverywhere(t, cs, "stress/")
	}, "every actor holds the same 10 keys")
}

// Three servers join one after another while the first takes writes: each ends with the old
// data and every Put made during the joins. A new server told of every running one and one
// told only of the last (which finds the rest through the welcome) do the same.
func TestJoinPullsStateAndLosesNoPut(t *testing.T) {
	for _, viaLast := range []bool{false, true} {
		t.Run(fmt.Sprint("told only of the last: ", viaLast), func(t *testing.T) {
			inBubble(t, func(t *testing.T) {
				c := newCluster(t)
				c.viaLast = viaLast
				first := c.clients(c.start(2))
				for i := range 20 {
					mustPut(t, first[i%2], fmt.Sprint("old", i), "v")
				}
				// Keep writing on the first server while three more join one after another.
				stop := make(chan struct{})
				var written atomic.Int64
				var wg sync.WaitGroup
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						if err := first[i%2].Put(fmt.Sprint("during", i), "v"); err != nil {
							t.Error(err)
							return
						}
						written.Store(int64(i + 1))
					}
				})
				var all []*Client
				all = append(all, first...)
				for range 3 {
					all = append(all, c.clients(c.start(2))...)
				}
				close(stop)
				wg.Wait()
				n := int(written.Load())
				for _, cl := range all {
					testutil.Eventually(t, 3*time.Second, func() bool {
						m, err := cl.List("")
						return err == nil && len(m) == 20+n
					}, "every actor holds the %d old and %d new keys", 20, n)
				}
			})
		})
	}
}

func TestNewServerRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, descs := range [][]string{{"garbage"}, {""}, {"127.0.0.1:1/x"}} {
		if _, _, err := NewServer(0, 1, descs); !errors.Is(err, ErrBadDesc) {
			t.Errorf("NewServer(%q) = %v, want ErrBadDesc", descs, err)
		}
	}
	if _, _, err := NewServer(0, 0, nil); err == nil {
		t.Error("NewServer with 0 actors succeeded")
	}
}

// A raw net/rpc caller that sends the wrong argument types or methods gets an error; the
// server keeps serving.
func TestQueryReceiverRejectsBadCalls(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newCluster(t)
		s := c.start(1)
		conn, err := c.network.Dial(t.Context(), s.QueryAddrs()[0])
		if err != nil {
			t.Fatal(err)
		}
		raw := rpc.NewClient(conn)
		defer raw.Close()
		var reply GetReply
		if err := raw.Call("QueryReceiver.Get", 42, &reply); err == nil {
			t.Error("Get with an int argument succeeded")
		}
		if err := raw.Call("QueryReceiver.Delete", &GetArgs{Key: "k"}, &reply); err == nil {
			t.Error("an unknown method succeeded")
		}
		if err := raw.Call("Other.Get", &GetArgs{Key: "k"}, &reply); err == nil {
			t.Error("an unknown service succeeded")
		}
		cl := c.clients(s)[0]
		mustPut(t, cl, "still", "serving")
		if got := get(t, cl, "still"); got != "serving" {
			t.Errorf("after bad calls Get = %q", got)
		}
	})
}

// A well-formed desc of a server that is not running is not an error: the server serves alone,
// its syncs to the absent one are dropped, and Close does not wait for it.
func TestJoinThroughAnAbsentServer(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newCluster(t)
		c.descs = []string{"127.0.0.1:9/1,2"} // nothing listens there on the in-memory network
		cl := c.clients(c.start(2))
		mustPut(t, cl[0], "k", "v")
		waitVisible(t, cl, "k", "v", 500*time.Millisecond)
	})
}

func TestHugeKey(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newCluster(t)
		cs := c.clients(c.start(2))
		key := strings.Repeat("k", 1<<20)
		mustPut(t, cs[0], key, "v")
		waitVisibleEvery(t, cs, key, "v", 500*time.Millisecond, 25*time.Millisecond)
		if m, _ := cs[1].List("kkk"); len(m) != 1 {
			t.Errorf("List found %d keys, want the huge one", len(m))
		}
	})
}

// Closing the client and the server while calls are in flight: every call returns, with a
// result or an error, Close returns, and nothing is left running (the bubble checks).
func TestCloseDuringCalls(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newCluster(t)
		s := c.start(2)
		client := NewClientConfig(ClientConfig{Router: &roundRobin{addrs: s.QueryAddrs()}, Transport: c.network})
		var wg sync.WaitGroup
		started := make(chan struct{}, 8)
		for w := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					if err := client.Put(fmt.Sprint("k", w), fmt.Sprint(i)); err != nil {
						return // closed under us: the expected end
					}
					if i == 10 {
						started <- struct{}{}
					}
				}
			})
		}
		for range 8 {
			testutil.Recv(t, started, 10*time.Second)
		}
		testutil.Within(t, 10*time.Second, "Client.Close and Server.Close during calls", func() {
			var closing sync.WaitGroup
			closing.Go(client.Close)
			closing.Go(s.Close)
			closing.Wait()
			wg.Wait()
		})
		s.Close()
		client.Close()
	})
}
