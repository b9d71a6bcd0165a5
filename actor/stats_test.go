package actor

import (
	"math"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
)

func TestMessageRate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		sends int64
		alive time.Duration
		want  float64
	}{
		{0, 5 * time.Second, 0},
		{7, 0, 7},
		{7, 899 * time.Millisecond, 7},            // floor(0.899+1.1) = 1
		{8, 900 * time.Millisecond, 4},            // floor(2.0) = 2
		{9, 1900 * time.Millisecond, 3},           // floor(3.0) = 3
		{30, 10 * time.Second, 30.0 / 11},         // floor(11.1) = 11
		{10, 1500 * time.Millisecond, 10.0 / 2.0}, // floor(2.6) = 2
	}
	for _, c := range cases {
		if got := messageRate(c.sends, c.alive); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("messageRate(%d, %v) = %v, want %v", c.sends, c.alive, got, c.want)
		}
	}
}

func TestCountersSaturate(t *testing.T) {
	t.Parallel()
	var c counters
	c.bytesSent.Store(math.MaxInt32 + 10)
	if got := c.snapshot().BytesSent; got != math.MaxInt32 {
		t.Fatalf("BytesSent = %d, want MaxInt32", got)
	}
}

func sizeOf(t *testing.T, msg any) int32 {
	t.Helper()
	_, n, err := copyMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	return int32(n)
}

// TestStatsScripted runs a fixed scenario and checks every counter exactly.
func TestStatsScripted(t *testing.T) {
	t.Parallel()
	start := time.Now()
	sys := newSystem(t)
	errs := errorsOf(sys)
	fwd, _ := startProbe(sys, 10)
	sink, got := startProbe(sys, 10)
	other, otherGot := startProbe(sys, 10)

	a, b, c := seqMsg{N: 1}, seqMsg{N: 2000, From: "x"}, "hello"
	// External: three forwards (each makes the forwarder tell the sink once), one timer.
	for _, m := range []any{a, b, c} {
		sys.Tell(fwd, forward{To: sink, Msg: m})
	}
	sys.TellAfter(sink, a, time.Millisecond)
	// The forwarder's fourth send goes to another target: the max rate is per pair.
	sys.Tell(fwd, forward{To: other, Msg: a})
	// A channel ref answered twice: used once, the second message is sent but dropped.
	reply, ch := sys.NewChannelRef()
	sys.Tell(reply, c)
	sys.Tell(reply, c)
	// Not sent at all: it cannot be encoded.
	sys.Tell(sink, withChan{})

	for range 4 {
		testutil.Recv(t, got, waitLong)
	}
	testutil.Recv(t, otherGot, waitLong)
	testutil.Recv(t, ch, waitLong)
	for range 2 { // ErrUnencodable and ErrChannelRefUsed, in some order
		testutil.Recv(t, errs, waitLong)
	}

	st := sys.Stats()
	elapsed := time.Since(start)
	wantBytes := sizeOf(t, forward{To: sink, Msg: a}) + sizeOf(t, forward{To: sink, Msg: b}) +
		sizeOf(t, forward{To: sink, Msg: c}) + sizeOf(t, forward{To: other, Msg: a}) +
		sizeOf(t, a) + 2*sizeOf(t, c) + // timer, channel ref twice
		sizeOf(t, a) + sizeOf(t, b) + sizeOf(t, c) + sizeOf(t, a) // the forwarder's tells
	want := Stats{
		MessagesSent:         11,
		MessagesSentExternal: 7,
		MessagesSentActor:    4,
		BytesSent:            wantBytes,
		ChannelRefsUsed:      1,
		MaxMessageRate:       messageRate(3, elapsed),
	}
	if elapsed < 900*time.Millisecond && want.MaxMessageRate != 3 {
		t.Fatalf("test arithmetic: rate %v", want.MaxMessageRate)
	}
	if st.MaxMessageRate > want.MaxMessageRate*0.99 && st.MaxMessageRate <= 3 {
		st.MaxMessageRate = want.MaxMessageRate // a second may have ticked between the two reads
	}
	if st != want {
		t.Fatalf("Stats = %+v\nwant    %+v", st, want)
	}
}

func TestMaxMessageRateCountsTellAfterWhenCalled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		sys := newSystemOn(t, NewInmemNetwork(), Faults{})
		sink, _ := startProbe(sys, 1)
		sys.StartActor(func(ctx *ActorContext) Actor {
			for range 5 {
				ctx.TellAfter(sink, seqMsg{}, time.Hour)
			}
			return &probe{ctx: ctx}
		})
		if r := sys.Stats().MaxMessageRate; r != 5 {
			t.Fatalf("MaxMessageRate = %v, want 5", r)
		}
	})
}

func TestSendCountsStayBoundedWithChannelRefs(t *testing.T) {
	t.Parallel()
	s := sendCounts{start: time.Now()}
	actorRef := ActorRef{Address: "a:1", Counter: 1}
	toActor := 0
	for i := range 10 * maxChannelPairs {
		s.count(ActorRef{Address: "a:1", Counter: -1 - i}) // one answer per query
		if i%100 == 0 {
			s.count(actorRef)
			toActor++
		}
	}
	heavy := ActorRef{Address: "a:1", Counter: -1}
	for range 5 {
		s.count(heavy) // folded away earlier with a count of 1; restarts from 0
	}
	if len(s.sends) > maxChannelPairs+1 {
		t.Fatalf("%d pairs kept", len(s.sends))
	}
	if r := s.maxRate(s.start); r != float64(toActor) {
		t.Fatalf("max rate %v, want the actor pair's %d", r, toActor)
	}
}
