package kvstore

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ds440/actor"
	"ds440/internal/testutil"
)

// wan is the one-way latency the remote scenarios run at.
const wan = 200 * time.Millisecond

// remoteCluster is a cluster whose servers talk over a simulated WAN, shared by the scenarios
// of one shape so each shape is started once.
type remoteCluster struct {
	*testCluster
	all []*Client   // a client per query actor of every server
	per [][]*Client // the clients of each server
}

// newRemoteCluster returns an empty cluster whose servers talk over a simulated WAN of
// one-way latency wan; call it inside synctest.Test.
func newRemoteCluster(t *testing.T) *remoteCluster {
	c := &remoteCluster{testCluster: newCluster(t)}
	c.faults = actor.Faults{Latency: wan}
	return c
}

func (c *remoteCluster) remoteBytes() int32 {
	var n int32
	for _, s := range c.servers {
		n += s.ActorSystem().Stats().RemoteBytesReceived
	}
	return n
}

// TestRemoteSync runs the sync scenarios on 2 and 4 servers of 1 and 4 actors at 200 ms
// one-way latency: basic reach within 2 s, last-writer-wins across servers, the message rate
// under a paced writer, delta-sized syncs, huge values, and concurrent writers everywhere. Each
// shape runs in its own synctest bubble over its own in-memory WAN, in parallel with the others.
func TestRemoteSync(t *testing.T) {
	for _, shape := range []struct{ servers, actors int }{{2, 1}, {2, 4}, {4, 1}, {4, 4}} {
		t.Run(fmt.Sprintf("%d servers %d actors", shape.servers, shape.actors), func(t *testing.T) {
			inBubble(t, func(t *testing.T) {
				c := newRemoteCluster(t)
				c.viaLast = shape.servers == 4 // the bigger clusters find their members through welcomes
				// No digest keepalives in the windows remoteSize measures: they cost the same
				// whatever the Puts and the store (TestDigestCostIsConstant), and would only blur
				// what a Put costs.
				c.keepalive = time.Hour
				for range shape.servers {
					cs := c.clients(c.start(shape.actors))
					c.per = append(c.per, cs)
					c.all = append(c.all, cs...)
				}
				// The 2 s bound is for a cluster whose members know each other: wait for that first.
				for i, cs := range c.per {
					k := fmt.Sprint("ready/", i)
					mustPut(t, cs[0], k, "v")
					testutil.Eventually(t, 10*time.Second, func() bool {
						for _, cl := range c.all {
							if get(t, cl, k) != "v" {
								return false
							}
						}
						return true
					}, "the cluster has formed")
				}
				remoteBasic(t, c)
				remoteLWW(t, c)
				remoteSize(t, c)
				remoteHuge(t, c)
				remoteStress(t, c)
				remoteFrequency(t, c)
			})
		})
	}
}

// A Put on any actor of any server is read on every actor of every server within 2 s.
func remoteBasic(t *testing.T, c *remoteCluster) {
	for i, cs := range c.per {
		k := fmt.Sprint("basic/", i)
		mustPut(t, cs[len(cs)-1], k, "v")
		waitVisible(t, c.all, k, "v", 2*time.Second)
	}
}

func remoteLWW(t *testing.T, c *remoteCluster) {
	first, other := c.per[0], c.per[len(c.per)-1]
	// A later Put wins, also when the earlier one has not reached the far side yet.
	mustPut(t, first[0], "lww", "early")
	c.clock.advance(time.Millisecond) // the next Put carries a later millisecond
	mustPut(t, first[len(first)-1], "lww", "later")
	waitVisible(t, c.all, "lww", "later", 2*time.Second)

	// Overwrite by another server.
	mustPut(t, other[0], "lww", "overwritten")
	waitVisible(t, c.all, "lww", "overwritten", 2*time.Second)

	// A re-Put of the value that lost wins.
	mustPut(t, first[0], "lww", "later")
	waitVisible(t, c.all, "lww", "later", 2*time.Second)

	// Puts on every server at once, inside one WAN delay: whichever is newest, all agree.
	var wg sync.WaitGroup
	for i, cs := range c.per {
		wg.Go(func() { mustPut(t, cs[i%len(cs)], "race", fmt.Sprint("server", i)) })
	}
	wg.Wait()
	testutil.Eventually(t, 2*time.Second, func() bool { return sameEverywhere(t, c.all, "race") },
		"every actor agrees on the winner of concurrent Puts")
}

// Syncs carry deltas: after 1,000 other Puts (250 in `make test`), one more Put costs the WAN
// about what the first did.
func remoteSize(t *testing.T, c *remoteCluster) {
	fillers := testutil.SoakSize(250, 1000)
	round := func(key string) int32 {
		c.settle()
		before := c.remoteBytes()
		mustPut(t, c.per[0][0], key, "v")
		waitVisible(t, c.all, key, "v", 2*time.Second)
		return c.remoteBytes() - before // queries stay inside a server: only sync crosses
	}
	round1 := round("size/first")
	for i := range fillers {
		cs := c.per[i%len(c.per)]
		mustPut(t, cs[i%len(cs)], fmt.Sprint("size/filler", i), "some filler value")
	}
	waitVisible(t, c.all, fmt.Sprint("size/filler", fillers-1), "some filler value", 2*time.Second)
	round2 := round("size/second")
	if round1 <= 0 || round2 > 2*round1 {
		t.Errorf("round 2 cost %d remote bytes, round 1 %d: syncs grow with the store", round2, round1)
	}
}

// A huge value (1 MiB; 256 KiB in `make test`, beside TestHugeValue's 4 MiB on one server) is
// read on every actor of every server within 2 s.
func remoteHuge(t *testing.T, c *remoteCluster) {
	big := strings.Repeat("x", testutil.SoakSize(256<<10, 1<<20))
	mustPut(t, c.per[0][0], "huge", big)
	waitVisibleEvery(t, c.all, "huge", big, 2*time.Second, 50*time.Millisecond)
}

// Eight writers on every actor of every server, on a few shared keys: every actor ends with
// the same store.
func remoteStress(t *testing.T, c *remoteCluster) {
	puts := testutil.SoakSize(20, 40) // per writer; at least 10, so that every key is written
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range puts {
				if err := c.all[(w+i)%len(c.all)].Put(fmt.Sprint("stress/", i%10), fmt.Sprint(w, "-", i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	testutil.Eventually(t, 3*time.Second, func() bool {
		first, _ := c.all[0].List("stress/")
		return len(first) == 10 && sameEverywhere(t, c.all, "stress/")
	}, "every actor holds the same 10 stress keys")
}

// Puts 10 ms apart spread over every actor keep every (actor, target) pair, timers included,
// at 10 messages a second or less, over the whole life of the cluster so far.
func remoteFrequency(t *testing.T, c *remoteCluster) {
	pace := time.NewTicker(10 * time.Millisecond) // the scenario is a paced writer
	defer pace.Stop()
	n := testutil.SoakSize(80, 150)
	for i := range n {
		mustPut(t, c.all[i%len(c.all)], fmt.Sprint("freq/", i), "v")
		<-pace.C
	}
	waitVisible(t, c.all, fmt.Sprint("freq/", n-1), "v", 2*time.Second)
	for i, s := range c.servers {
		if rate := s.ActorSystem().Stats().MaxMessageRate; rate > 10 {
			t.Errorf("server %d: MaxMessageRate = %.2f, want at most 10", i, rate)
		}
	}
}

// sameEverywhere reports whether every client lists the same entries under prefix.
func sameEverywhere(t *testing.T, cs []*Client, prefix string) bool {
	t.Helper()
	first, err := cs[0].List(prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range cs[1:] {
		m, err := cl.List(prefix)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(m) != fmt.Sprint(first) {
			return false
		}
	}
	return true
}

// One Put crosses to a remote server once, not once per actor there: at 200 ms latency, a
// 4-actor server receives about the bytes a 1-actor one does for the same 40 Puts.
func TestRemoteSyncDoesNotBroadcast(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		received := map[int]int32{}
		for _, n := range []int{1, 4} {
			c := newRemoteCluster(t)
			src := c.clients(c.start(4))
			dst := c.start(n)
			c.settle() // the join's welcome is not part of the measure
			before := dst.ActorSystem().Stats().RemoteBytesReceived
			for i := range 40 {
				mustPut(t, src[i%4], fmt.Sprint("k", i), "value")
			}
			waitVisible(t, c.clients(dst), "k39", "value", 2*time.Second)
			c.settle()
			received[n] = dst.ActorSystem().Stats().RemoteBytesReceived - before
			for _, s := range c.servers {
				s.Close()
			}
		}
		t.Logf("remote bytes received for 40 Puts: 1-actor server %d, 4-actor server %d", received[1], received[4])
		if received[1] <= 0 || received[4] > 2*received[1] {
			t.Errorf("4-actor server received %d bytes, 1-actor %d: puts are broadcast", received[4], received[1])
		}
	})
}

// At 200 ms latency, two servers join one after another, each told only of the last, while
// the first server and the newcomers themselves take writes: no Put is lost.
func TestJoinOverWANLosesNoPut(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newRemoteCluster(t)
		c.viaLast = true
		c.per = append(c.per, c.clients(c.start(2)))
		for i := range 20 {
			mustPut(t, c.per[0][i%2], fmt.Sprint("old/", i), "v")
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		want := map[string]bool{}
		var written atomic.Int64
		writers := 0
		writer := func(cs []*Client, name string) {
			writers++
			wg.Go(func() {
				pace := time.NewTicker(5 * time.Millisecond) // a steady stream, not a flood
				defer pace.Stop()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-pace.C:
					}
					k := fmt.Sprintf("during/%s/%d", name, i)
					if err := cs[i%len(cs)].Put(k, "v"); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					want[k] = true
					mu.Unlock()
					written.Add(1)
				}
			})
		}
		// writesGoOn waits until the writers have written for about one WAN delay (one Put
		// every 5 ms each), so the join is in flight while they write.
		writesGoOn := func() {
			n := int64(writers) * int64(wan/(5*time.Millisecond))
			from := written.Load()
			testutil.Eventually(t, 10*time.Second, func() bool { return written.Load() >= from+n },
				"the writers go on")
		}
		writer(c.per[0], "first")
		for i := 1; i <= 2; i++ {
			cs := c.clients(c.start(2))
			c.per = append(c.per, cs)
			writer(cs, fmt.Sprint("joiner", i)) // writes from the first moment of its life
			writesGoOn()
		}
		writesGoOn()
		close(stop)
		wg.Wait()
		for _, cs := range c.per {
			for _, cl := range cs {
				testutil.Eventually(t, 5*time.Second, func() bool {
					m, err := cl.List("")
					if err != nil || len(m) != 20+len(want) {
						return false
					}
					for k := range want {
						if _, ok := m[k]; !ok {
							return false
						}
					}
					return true
				}, "every actor holds the 20 old keys and the %d written during the joins", len(want))
			}
		}
	})
}

// Anti-entropy in steady state: the digests servers exchange cost the same with 1,000 keys in
// the store as with one, and replicas that agree exchange nothing more.
func TestDigestCostIsConstant(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newRemoteCluster(t)
		c.viaLast = true
		var cs []*Client
		for range 3 {
			cs = append(cs, c.clients(c.start(2))...)
		}
		quiet := func() int32 {
			c.settle()
			time.Sleep(keepaliveInterval / 2) // fake time (synctest): measure from between two ticks
			before := c.remoteBytes()
			time.Sleep(10 * keepaliveInterval) // fake time (synctest): ten rounds of digests
			return c.remoteBytes() - before
		}
		mustPut(t, cs[0], "one", "v")
		waitVisible(t, cs, "one", "v", 2*time.Second)
		small := quiet()
		for i := range 1000 {
			mustPut(t, cs[i%len(cs)], fmt.Sprint("filler", i), "some filler value")
		}
		waitVisible(t, cs, "filler999", "some filler value", 2*time.Second)
		big := quiet()
		t.Logf("10 rounds of digests between 3 servers: %d bytes with 1 key, %d with 1001", small, big)
		if small <= 0 || big > small+small/10 {
			t.Errorf("10 rounds of digests cost %d bytes with 1 key, %d with 1001", small, big)
		}
	})
}
