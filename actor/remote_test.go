package actor

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
)

// orderChecker counts seqMsgs per sender and the ones out of order, and tells done once it has
// seen want messages.
type orderChecker struct {
	next      map[string]int
	seen, bad int
	want      int
	done      chan<- [2]int
}

func (o *orderChecker) OnMessage(m any) error {
	s := m.(seqMsg)
	if s.N != o.next[s.From] {
		o.bad++
	}
	o.next[s.From] = s.N + 1
	o.seen++
	if o.seen == o.want {
		o.done <- [2]int{o.seen, o.bad}
	}
	return nil
}

// burst is told to a bursting actor: tell N seqMsgs to To, tagged From.
type burstReq struct {
	To   ActorRef
	From string
	N    int
}

type burster struct{ ctx *ActorContext }

func (b *burster) OnMessage(m any) error {
	r := m.(burstReq)
	for i := range r.N {
		b.ctx.Tell(&r.To, seqMsg{From: r.From, N: i})
	}
	return nil
}

func init() { registerTestTypes(burstReq{}) }

func startChecker(sys *ActorSystem, want int) (*ActorRef, <-chan [2]int) {
	done := make(chan [2]int, 1)
	ref := sys.StartActor(func(*ActorContext) Actor { return &orderChecker{next: map[string]int{}, want: want, done: done} })
	return ref, done
}

// TestRemoteOrderAcrossManyMessages has four senders (one outside any actor) stream to a remote
// checker: 20,000 messages in all (100,000 in `make soak`), several times the largest batch,
// every message in order and every byte counted on both sides.
func TestRemoteOrderAcrossManyMessages(t *testing.T) {
	testutil.CheckGoroutines(t)
	a, b := newSystem(t), newSystem(t)
	errs := errorsOf(a)
	const senders = 4
	each := testutil.SoakSize(5_000, 25_000)
	checker, done := startChecker(b, senders*each)
	var localBytes int32 // the burst requests, told inside a
	for i := range senders {
		if i == 0 {
			go func() { // one sender from outside any actor
				for n := range each {
					a.Tell(checker, seqMsg{From: "external", N: n})
				}
			}()
			continue
		}
		ref := a.StartActor(func(ctx *ActorContext) Actor { return &burster{ctx} })
		req := burstReq{To: *checker, From: fmt.Sprint("actor", i), N: each}
		localBytes += sizeOf(t, req)
		a.Tell(ref, req)
	}
	select {
	case r := <-done:
		if r[1] != 0 {
			t.Fatalf("%d of %d messages arrived out of order", r[1], r[0])
		}
	case err := <-errs:
		t.Fatalf("error: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatalf("not all messages arrived: %+v", b.Stats())
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.BytesSent-localBytes != sb.RemoteBytesReceived || sa.MessagesUndelivered != 0 {
		t.Fatalf("sender sent %d bytes remotely, receiver got %d; undelivered %d", sa.BytesSent-localBytes, sb.RemoteBytesReceived, sa.MessagesUndelivered)
	}
}

func TestRemoteStatsScripted(t *testing.T) {
	t.Parallel()
	a, b := newSystem(t), newSystem(t)
	echo, _ := startProbe(b, 1)
	reply, ch := a.NewChannelRef()
	if a.IsLocal(echo) || !b.IsLocal(echo) {
		t.Fatal("IsLocal is wrong for a remote ref")
	}
	ask := forward{To: reply, Msg: seqMsg{N: 42}}
	a.Tell(echo, ask) // b's probe tells seqMsg{42} back to a's channel ref
	if m := testutil.Recv(t, ch, waitLong); m != (seqMsg{N: 42}) {
		t.Fatalf("channel ref got %#v", m)
	}
	askSize, answerSize := sizeOf(t, ask), sizeOf(t, seqMsg{N: 42})
	wantA := Stats{MessagesSent: 1, MessagesSentExternal: 1, BytesSent: askSize,
		RemoteBytesReceived: answerSize, ChannelRefsUsed: 1}
	wantB := Stats{MessagesSent: 1, MessagesSentActor: 1, BytesSent: answerSize,
		RemoteBytesReceived: askSize, MaxMessageRate: 1}
	if st := a.Stats(); st != wantA {
		t.Errorf("asking system: %+v\nwant %+v", st, wantA)
	}
	st := b.Stats()
	if st.MaxMessageRate == 0.5 { // the probe turned 0.9 s old before Stats: 1 send / 2
		st.MaxMessageRate = 1
	}
	if st != wantB {
		t.Errorf("answering system: %+v\nwant %+v", st, wantB)
	}
}

// arrival is when an arrivalClock got message N.
type arrival struct {
	N  int
	At time.Time
}

// arrivalClock records when each message (an int) reaches it.
type arrivalClock struct{ got chan<- arrival }

func (c *arrivalClock) OnMessage(m any) error {
	c.got <- arrival{m.(int), time.Now()}
	return nil
}

// A system's own latency delays its remote tells without serialising them. It runs in a
// synctest bubble over an in-memory network, so the 200 ms WAN costs no real time and the
// arrival times are exact.
func TestArtificialLatencyDoesNotSerialise(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const latency = 200 * time.Millisecond
		network := NewInmemNetwork()
		a := newSystemOn(t, network, Faults{Latency: latency})
		b := newSystemOn(t, network, Faults{})
		got := make(chan arrival, 2000)
		clock := b.StartActor(func(*ActorContext) Actor { return &arrivalClock{got} })

		start := time.Now()
		for i := range 5 {
			a.Tell(clock, i)
		}
		for range 5 {
			// Told together, they arrive together, one latency later: not queued behind each
			// other's delay.
			if arrived := testutil.Recv(t, got, waitLong).At.Sub(start); arrived != latency {
				t.Fatalf("a message arrived after %v, want %v", arrived, latency)
			}
		}

		// Throughput: 20 bursts of 100 messages, 20 ms apart, each arrive one latency after
		// they were told. Were bursts (or batches) queued behind each other's delay, the last
		// would arrive seconds late.
		const bursts, perBurst = 20, 100
		told := make([]time.Time, bursts)
		pace := time.NewTicker(20 * time.Millisecond) // the scenario is a paced sender
		defer pace.Stop()
		for k := range bursts {
			told[k] = time.Now()
			for i := range perBurst {
				a.Tell(clock, k*perBurst+i)
			}
			<-pace.C
		}
		for range bursts * perBurst {
			m := testutil.Recv(t, got, waitLong)
			if d := m.At.Sub(told[m.N/perBurst]); d != latency {
				t.Fatalf("message %d arrived %v after it was told, latency %v", m.N, d, latency)
			}
		}
	})
}

// Two systems of one process, each with its own latency, run at once: the faults belong to the
// system (and to the link, with SetLinkFaults), not to the process.
func TestFaultsArePerSystemAndPerLink(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		network := NewInmemNetwork()
		slow := newSystemOn(t, network, Faults{Latency: 300 * time.Millisecond})
		fast := newSystemOn(t, network, Faults{Latency: 10 * time.Millisecond})
		dst := newSystemOn(t, network, Faults{})
		got := make(chan arrival, 10)
		clock := dst.StartActor(func(*ActorContext) Actor { return &arrivalClock{got} })
		arrivalAfter := func(from *ActorSystem, n int) time.Duration {
			t.Helper()
			start := time.Now()
			from.Tell(clock, n)
			m := testutil.Recv(t, got, waitLong)
			if m.N != n {
				t.Fatalf("got message %d, want %d", m.N, n)
			}
			return m.At.Sub(start)
		}
		if d := arrivalAfter(slow, 1); d != 300*time.Millisecond {
			t.Errorf("slow system: arrived after %v, want 300ms", d)
		}
		if d := arrivalAfter(fast, 2); d != 10*time.Millisecond {
			t.Errorf("fast system: arrived after %v, want 10ms", d)
		}

		// A link of its own: faster, then cut (every message lost and counted), then healed.
		slow.SetLinkFaults(dst.Addr(), Faults{Latency: 50 * time.Millisecond})
		if d := arrivalAfter(slow, 3); d != 50*time.Millisecond {
			t.Errorf("slow system's own link: arrived after %v, want 50ms", d)
		}
		slow.SetLinkFaults(dst.Addr(), Faults{Loss: 1})
		before := slow.Stats().MessagesUndelivered
		for i := range 10 {
			slow.Tell(clock, 100+i)
		}
		synctest.Wait()
		if n := slow.Stats().MessagesUndelivered - before; n != 10 {
			t.Errorf("%d messages counted undelivered over a cut link, want 10", n)
		}
		testutil.NoRecv(t, got, time.Second)
		slow.SetLinkFaults(dst.Addr(), Faults{})
		if d := arrivalAfter(slow, 4); d != 0 {
			t.Errorf("healed link: arrived after %v, want at once", d)
		}
	})
}

// Loss drops about the fraction asked for, and what is not lost keeps its order.
func TestLossIsCountedAndKeepsOrder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		network := NewInmemNetwork()
		a := newSystemOn(t, network, Faults{Loss: 0.3})
		b := newSystemOn(t, network, Faults{})
		got := make(chan arrival, 2000)
		clock := b.StartActor(func(*ActorContext) Actor { return &arrivalClock{got} })
		const n = 2000
		for i := range n {
			a.Tell(clock, i)
		}
		synctest.Wait()
		lost := int(a.Stats().MessagesUndelivered)
		if lost < n/5 || lost > n*2/5 {
			t.Errorf("%d of %d lost at 30%% loss", lost, n)
		}
		last := -1
		for range n - lost {
			m := testutil.Recv(t, got, waitLong)
			if m.N <= last {
				t.Fatalf("message %d after %d", m.N, last)
			}
			last = m.N
		}
		testutil.NoRecv(t, got, time.Second)
	})
}

// SetArtificialLatency, the contract's process-wide form, delays the tells of systems made by
// NewActorSystem; a system made by New ignores it. The knob is process-wide, so this test
// does not run in parallel, and over TCP it measures real time: both systems tell at once, and
// the latency is long enough (a second) that the undelayed tell arrives well before it even on
// a machine too loaded to deliver over loopback within 100 ms (go test -count=20 saw 250 ms).
func TestSetArtificialLatencyReachesNewActorSystem(t *testing.T) {
	const latency = time.Second
	SetArtificialLatency(latency)
	t.Cleanup(func() { SetArtificialLatency(0) })
	a, b := newSystem(t), newSystem(t)
	own, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(own.Close)
	got := make(chan arrival, 2)
	clock := b.StartActor(func(*ActorContext) Actor { return &arrivalClock{got} })
	start := time.Now()
	a.Tell(clock, 1)
	own.Tell(clock, 2)
	for range 2 {
		r := testutil.Recv(t, got, waitLong)
		switch d := r.At.Sub(start); {
		case r.N == 1 && d < latency:
			t.Errorf("NewActorSystem's tell arrived after %v, before the latency of %v", d, latency)
		case r.N == 2 && d >= latency:
			t.Errorf("New's tell arrived after %v: it followed SetArtificialLatency", d)
		}
	}
}

func TestRemoteDownThenBack(t *testing.T) {
	t.Parallel()
	a := newSystem(t)
	errs := errorsOf(a)
	b, err := NewActorSystem(testutil.FreePort(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	addr := b.Addr()
	checker, _ := startChecker(b, -1)
	// Before: delivered.
	reply, ch := b.NewChannelRef()
	a.Tell(&ActorRef{Address: addr, Counter: 2}, 0) // counter 2 does not exist: reported by b, not a
	a.Tell(checker, seqMsg{From: "a", N: 0})
	a.Tell(reply, "before")
	testutil.Recv(t, ch, waitLong)
	// The batch is delivered before its acknowledgement is sent: wait for that, or a batch
	// unacknowledged when b closes is (rightly) counted lost.
	testutil.Eventually(t, waitLong, func() bool { return a.PendingRemote(addr) == 0 }, "batch acknowledged")

	// Down: everything told is lost and counted, and the outage is reported once.
	b.Close()
	const lost = 10
	for i := range lost {
		a.Tell(checker, seqMsg{From: "a", N: 1 + i})
	}
	testutil.Eventually(t, waitLong, func() bool { return a.Stats().MessagesUndelivered == lost },
		"%d lost messages counted (have %d)", lost, a.Stats().MessagesUndelivered)
	if err := testutil.Recv(t, errs, waitLong); !errors.Is(err, ErrRemoteUnreachable) {
		t.Fatalf("reported %v, want ErrRemoteUnreachable", err)
	}

	// Back on the same address: later messages arrive, in order.
	b2, err := New(Config{Addr: addr})
	if err != nil {
		t.Fatalf("restarting the remote on %s: %v", addr, err)
	}
	t.Cleanup(b2.Close)
	const later = 100
	checker2, done := startChecker(b2, later)
	if *checker2 != *checker {
		t.Fatalf("restarted checker is %s, want %s", checker2.Uid(), checker.Uid())
	}
	for i := range later {
		a.Tell(checker, seqMsg{From: "a", N: i})
	}
	select {
	case r := <-done:
		if r[1] != 0 {
			t.Fatalf("%d of %d later messages out of order", r[1], r[0])
		}
	case <-time.After(waitLong):
		t.Fatalf("later messages did not arrive: %+v", b2.Stats())
	}
	if n := a.Stats().MessagesUndelivered; n != lost {
		t.Fatalf("MessagesUndelivered = %d after the remote came back, want %d", n, lost)
	}
	testutil.NoRecv(t, errs, 20*time.Millisecond) // one report per outage
}

func TestPeerThatFailsEveryCallIsBackedOff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// Something listens on the address, but closes every connection at once: dials
		// succeed, calls fail. The sender must back off instead of redialing for every message.
		network := NewInmemNetwork()
		ln, err := network.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var accepts atomic.Int32
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepts.Add(1)
				c.Close()
			}
		})
		defer wg.Wait()
		defer ln.Close()

		sys := newSystemOn(t, network, Faults{})
		errs := errorsOf(sys)
		ref := &ActorRef{Address: ln.Addr().String(), Counter: 1}
		const tells = 100
		trickle := time.NewTicker(5 * time.Millisecond) // a steady trickle over half a second
		defer trickle.Stop()
		for i := range tells {
			sys.Tell(ref, seqMsg{N: i})
			<-trickle.C
		}
		testutil.Eventually(t, waitLong, func() bool { return sys.Stats().MessagesUndelivered == tells },
			"every message counted undelivered (have %d)", sys.Stats().MessagesUndelivered)
		if n := accepts.Load(); n > 20 {
			t.Fatalf("%d connections for %d messages in half a second: no backoff", n, tells)
		}
		if err := testutil.Recv(t, errs, waitLong); !errors.Is(err, ErrRemoteUnreachable) {
			t.Fatalf("reported %v, want ErrRemoteUnreachable", err)
		}
		testutil.NoRecv(t, errs, 20*time.Millisecond) // reported once, not per message
		sys.Close()
	})
}

// TestHungPeerNeverBlocksTheSenderOrClose runs in a synctest bubble over an in-memory network,
// where the clock moves only when every goroutine waits: a Tell that waited for the hung call
// (or for its timeout) would show as time passed, whatever the load of the machine.
func TestHungPeerNeverBlocksTheSenderOrClose(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// The peer accepts and then neither reads nor answers: calls hang until their timeout.
		network := NewInmemNetwork()
		ln, err := network.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held := make(chan net.Conn, 16)
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				held <- c
			}
		})
		defer func() {
			ln.Close()
			wg.Wait()
			for len(held) > 0 {
				(<-held).Close()
			}
		}()

		sys := newSystemOn(t, network, Faults{})
		addr := ln.Addr().String()
		ref := &ActorRef{Address: addr, Counter: 1}
		sender := sys.StartActor(func(ctx *ActorContext) Actor { return &burster{ctx} })
		const tells = 10000
		start := time.Now()
		for i := range tells {
			sys.Tell(ref, seqMsg{N: i})
		}
		sys.Tell(sender, burstReq{To: *ref, From: "actor", N: tells})
		synctest.Wait() // the actor has told its 10,000 too, or is blocked
		if d := time.Since(start); d != 0 {
			t.Fatalf("20,000 tells to a hung peer waited %v", d)
		}
		if n := sys.PendingRemote(addr); n != 2*tells {
			t.Fatalf("%d messages queued or in flight to the hung peer, want %d", n, 2*tells)
		}
		testutil.Recv(t, held, waitLong) // the sender did connect and is waiting on its call
		start = time.Now()
		sys.Close()
		if d := time.Since(start); d != 0 {
			t.Fatalf("Close with a call in flight waited %v", d)
		}
	})
}

func TestPeerRestartedWhileIdleLosesNothing(t *testing.T) {
	t.Parallel()
	a := newSystem(t)
	port := testutil.FreePort(t)
	b, err := NewActorSystem(port)
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	reply, ch := b.NewChannelRef()
	a.Tell(reply, "hello")
	testutil.Recv(t, ch, waitLong)
	testutil.Eventually(t, waitLong, func() bool { return a.PendingRemote(addr) == 0 }, "batch acknowledged")

	b.Close()
	testutil.Eventually(t, waitLong, func() bool { return !a.RemoteConnected(addr) }, "the sender noticed the peer went away")
	b2, err := NewActorSystem(port)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	checker, done := startChecker(b2, 1000)
	for i := range 1000 {
		a.Tell(checker, seqMsg{From: "a", N: i})
	}
	select {
	case r := <-done:
		if r[1] != 0 {
			t.Fatalf("%d of %d out of order", r[1], r[0])
		}
	case <-time.After(waitLong):
		t.Fatalf("messages told after the restart did not all arrive: %+v", a.Stats())
	}
	if n := a.Stats().MessagesUndelivered; n != 0 {
		t.Fatalf("MessagesUndelivered = %d, want 0: nothing was told while the peer was down", n)
	}
}
