package kvstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"ds440/actor"
	"ds440/internal/testutil"
)

// reportsOf has the servers started later report to a channel.
func reportsOf(c *testCluster) <-chan error {
	ch := make(chan error, 1024)
	c.onError = func(err error) {
		select {
		case ch <- err:
		default:
		}
	}
	return ch
}

// waitReport waits for a report that is target.
func waitReport(t *testing.T, reports <-chan error, target error, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case err := <-reports:
			if errors.Is(err, target) {
				return
			}
		case <-deadline:
			t.Fatalf("no %v reported within %v", target, within)
		}
	}
}

// A desc whose server does not answer is reported, by the actor system (nothing listens there)
// and by kvstore (no welcome), and the server still serves alone.
func TestUnreachableDescIsReported(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newCluster(t)
		reports := reportsOf(c)
		c.descs = []string{"127.0.0.1:9/1,2"} // nothing listens there on the in-memory network
		cl := c.clients(c.start(2))
		mustPut(t, cl[0], "k", "v")
		waitVisible(t, cl, "k", "v", 500*time.Millisecond)
		waitReport(t, reports, ErrUnreachable, 2*ackTimeout)
		c2 := newCluster(t)
		reports2 := reportsOf(c2)
		c2.descs = c.descs
		c2.start(1)
		waitReport(t, reports2, actor.ErrRemoteUnreachable, ackTimeout)
	})
}

// A server restarted on the same address without descs, empty, gets the whole state from the
// first peer that sends it a sync: within 2 s, whether someone writes or not (the first
// keepalive makes it greet the sender at once).
func TestRestartedServerWithoutDescGetsTheWholeState(t *testing.T) {
	for _, write := range []bool{true, false} {
		t.Run(fmt.Sprint("a write after the restart: ", write), func(t *testing.T) {
			inBubble(t, func(t *testing.T) { restartWithoutDesc(t, write) })
		})
	}
}

func restartWithoutDesc(t *testing.T, write bool) {
	c := newRemoteCluster(t)
	a, b := c.start(2), c.start(2)
	ca := c.clients(a)
	for i := range 50 {
		mustPut(t, ca[i%2], fmt.Sprint("old/", i), "v")
	}
	waitVisible(t, c.clients(b), "old/49", "v", 2*time.Second)
	c.settle()
	addr := b.ActorSystem().Addr()
	b.Close()
	b2, err := New(Config{Addr: addr, Transport: c.network, Faults: c.faults, QueryActors: 2, Clock: c.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	c.servers = append(c.servers, b2)
	cb := c.clients(b2)
	if m, _ := cb[0].List(""); len(m) != 0 {
		t.Fatalf("the restarted server holds %d keys", len(m))
	}
	want, within := 50, 2*time.Second
	if write {
		mustPut(t, ca[0], "new", "v")
		want = 51
	}
	for _, cl := range cb {
		testutil.Eventually(t, within, func() bool {
			m, err := cl.List("")
			return err == nil && len(m) == want
		}, "the restarted server holds the %d keys", want)
	}
	// And it is part of the cluster again: its Puts reach the other server.
	mustPut(t, cb[1], "from/restarted", "v")
	waitVisible(t, ca, "from/restarted", "v", 2*time.Second)
}

// Two servers cut off from each other for longer than DropAfter while both take writes: each
// drops the other (reported) and, keeping nothing for it, falls idle; once the network heals
// they find each other again and every Put of both sides is everywhere.
func TestPartitionedServerIsDroppedAndRejoins(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newRemoteCluster(t)
		c.dropAfter = 3 * time.Second
		reports := reportsOf(c.testCluster)
		a, b := c.start(2), c.start(2)
		ca, cb := c.clients(a), c.clients(b)
		all := append(append([]*Client{}, ca...), cb...)
		mustPut(t, ca[0], "before", "v")
		waitVisible(t, all, "before", "v", 2*time.Second)

		cut := func(f actor.Faults) {
			a.ActorSystem().SetLinkFaults(b.ActorSystem().Addr(), f)
			b.ActorSystem().SetLinkFaults(a.ActorSystem().Addr(), f)
		}
		cut(actor.Faults{Loss: 1, Latency: wan})
		for i := range 20 {
			mustPut(t, ca[i%2], fmt.Sprint("a/", i), "v")
			mustPut(t, cb[i%2], fmt.Sprint("b/", i), "v")
		}
		waitReport(t, reports, ErrServerDropped, c.dropAfter+2*ackTimeout)
		c.settle() // nothing is kept for the dropped server: every actor falls idle
		if m, _ := ca[0].List("b/"); len(m) != 0 {
			t.Fatalf("a holds %d of b's keys through the cut", len(m))
		}

		cut(actor.Faults{Latency: wan})
		for _, cl := range all {
			testutil.Eventually(t, rejoinInterval+2*ackTimeout, func() bool {
				m, err := cl.List("")
				return err == nil && len(m) == 41
			}, "every actor holds the 41 keys of both sides after the heal")
		}
		mustPut(t, cb[0], "after", "v")
		waitVisible(t, all, "after", "v", 2*time.Second)
	})
}

// A Put reaches one of two other servers, and its writer dies before the other has it (the
// link to it is cut): the two survivors find out from their digests and the Put reaches the
// second within 2 s of the writer's death.
func TestPutOfADeadWriterReachesEveryServer(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newRemoteCluster(t)
		writer, reached, missed := c.start(2), c.start(2), c.start(2)
		cw := c.clients(writer)
		mustPut(t, cw[0], "before", "v")
		waitVisible(t, append(c.clients(reached), c.clients(missed)...), "before", "v", 2*time.Second)
		c.settle()
		writer.ActorSystem().SetLinkFaults(missed.ActorSystem().Addr(), actor.Faults{Latency: wan, Loss: 1})
		mustPut(t, cw[1], "lost", "once")
		waitVisible(t, c.clients(reached), "lost", "once", 2*time.Second)
		writer.Close()
		died := time.Now()
		waitVisible(t, c.clients(missed), "lost", "once", 2*time.Second)
		t.Logf("the Put reached the last server %v after its writer died", time.Since(died))
	})
}
