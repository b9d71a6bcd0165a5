package actor

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
)

func TestLocalOrder(t *testing.T) {
	testutil.CheckGoroutines(t)
	sys := newSystem(t)
	ref, got := startProbe(sys, 1000)
	for i := range 1000 {
		sys.Tell(ref, seqMsg{N: i})
	}
	for i := range 1000 {
		if m := testutil.Recv(t, got, waitLong).(seqMsg); m.N != i {
			t.Fatalf("message %d arrived as number %d", m.N, i)
		}
	}
}

func TestLocalOrderPerSenderWithManySenders(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	ref, got := startProbe(sys, 8*500)
	var wg sync.WaitGroup
	for s := range 8 {
		wg.Go(func() {
			for i := range 500 {
				sys.Tell(ref, seqMsg{From: fmt.Sprint(s), N: i})
			}
		})
	}
	wg.Wait()
	next := map[string]int{}
	for range 8 * 500 {
		m := testutil.Recv(t, got, waitLong).(seqMsg)
		if m.N != next[m.From] {
			t.Fatalf("sender %s: got %d, want %d", m.From, m.N, next[m.From])
		}
		next[m.From]++
	}
}

// overlapDetector records whether two OnMessage calls ever ran at once.
type overlapDetector struct {
	inside, overlaps, calls *atomic.Int32
}

func (o *overlapDetector) OnMessage(any) error {
	if o.inside.Add(1) > 1 {
		o.overlaps.Add(1)
	}
	for range 50 {
		runtime.Gosched() // widen the window an overlap would need
	}
	o.inside.Add(-1)
	o.calls.Add(1)
	return nil
}

func TestOneOnMessageAtATime(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	var inside, overlaps, calls atomic.Int32
	ref := sys.StartActor(func(*ActorContext) Actor { return &overlapDetector{&inside, &overlaps, &calls} })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 100 {
				sys.Tell(ref, i)
				sys.TellAfter(ref, i, time.Duration(i%5)*time.Millisecond)
			}
		})
	}
	wg.Wait()
	testutil.Eventually(t, waitLong, func() bool { return calls.Load() == 800 }, "800 messages handled (have %d)", calls.Load())
	if n := overlaps.Load(); n != 0 {
		t.Fatalf("%d OnMessage calls overlapped", n)
	}
}

// TellAfter delivers at its delay, in a synctest bubble where the delays are exact.
func TestTellAfterTiming(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		sys := newSystemOn(t, NewInmemNetwork(), Faults{})
		ref, got := startProbe(sys, 3)
		const d = 100 * time.Millisecond
		start := time.Now()
		sys.TellAfter(ref, seqMsg{N: 2}, 2*d)
		sys.TellAfter(ref, seqMsg{N: 1}, d)
		sys.Tell(ref, seqMsg{N: 0})
		if m := testutil.Recv(t, got, waitLong).(seqMsg); m.N != 0 {
			t.Fatalf("message %d arrived before the one told at once", m.N)
		}
		for i := 1; i <= 2; i++ {
			m := testutil.Recv(t, got, waitLong).(seqMsg)
			if elapsed, due := time.Since(start), time.Duration(m.N)*d; m.N != i || elapsed != due {
				t.Fatalf("message %d arrived after %v, want message %d after %v", m.N, elapsed, i, due)
			}
		}
	})
}

func TestActorTellAfterToSelfTicks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		sys := newSystemOn(t, NewInmemNetwork(), Faults{})
		got := make(chan any, 10)
		sys.StartActor(func(ctx *ActorContext) Actor {
			ctx.TellAfter(ctx.Self, seqMsg{N: 0}, time.Millisecond) // a timer set by the constructor
			return &ticker{ctx: ctx, got: got}
		})
		for i := range 5 {
			if m := testutil.Recv(t, got, waitLong).(seqMsg); m.N != i {
				t.Fatalf("tick %d arrived as %d", m.N, i)
			}
		}
	})
}

type ticker struct {
	ctx *ActorContext
	got chan<- any
}

func (k *ticker) OnMessage(m any) error {
	s := m.(seqMsg)
	k.got <- s
	if s.N < 4 {
		k.ctx.TellAfter(k.ctx.Self, seqMsg{N: s.N + 1}, time.Millisecond)
	}
	return nil
}

func TestErrorsAndPanicsAreReportedAndTheActorContinues(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	errs := errorsOf(sys)
	ref, got := startProbe(sys, 1)
	sys.Tell(ref, errorMsg{Why: "bad input"})
	sys.Tell(ref, panicMsg{Why: "boom"})
	sys.Tell(ref, seqMsg{N: 7})

	var te *testError
	if err := testutil.Recv(t, errs, waitLong); !errors.As(err, &te) || te.why != "bad input" {
		t.Fatalf("first report = %v, want the actor's error", err)
	}
	if err := testutil.Recv(t, errs, waitLong); !errors.Is(err, ErrActorPanicked) {
		t.Fatalf("second report = %v, want ErrActorPanicked", err)
	}
	if m := testutil.Recv(t, got, waitLong).(seqMsg); m.N != 7 {
		t.Fatalf("after the failures the actor got %v", m)
	}
}

func TestUnencodableMessagesAreReported(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		msg  any
		want error
	}{
		{"channel field", withChan{C: make(chan int)}, ErrUnencodable},
		{"unregistered type", notRegistered{N: 1}, ErrUnencodable},
		{"function", func() {}, ErrUnencodable},
		{"nil", nil, ErrNilMessage},
		{"nil pointer", (*seqMsg)(nil), ErrUnencodable},
	}
	// Copy a *seqMsg first, so the nil pointer below meets the cached type (gob panics there).
	if _, _, err := copyMessage(&seqMsg{N: 1}); err != nil {
		t.Fatal(err)
	}
	sys := newSystem(t)
	errs := errorsOf(sys)
	ref, got := startProbe(sys, 1)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sys.Tell(ref, c.msg)
			if err := testutil.Recv(t, errs, waitLong); !errors.Is(err, c.want) {
				t.Fatalf("reported %v, want %v", err, c.want)
			}
		})
	}
	sys.Tell(nil, seqMsg{})
	if err := testutil.Recv(t, errs, waitLong); !errors.Is(err, ErrNilRef) {
		t.Fatalf("Tell(nil) reported %v, want ErrNilRef", err)
	}
	sys.Tell(ref, seqMsg{N: 1})
	if m := testutil.Recv(t, got, waitLong).(seqMsg); m.N != 1 {
		t.Fatalf("after the bad messages the actor got %v", m)
	}
	if st := sys.Stats(); st.MessagesSent != 1 {
		t.Fatalf("MessagesSent = %d, want 1 (unencodable messages are not sent)", st.MessagesSent)
	}
}

func TestMessagesAreCopies(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	ref, got := startProbe(sys, 1)
	p := payload{List: []int{1, 2, 3}, Map: map[string]int{"a": 1}}
	sys.Tell(ref, p)
	p.List[0], p.Map["a"] = 100, 100 // the sender changes its value after telling it
	m := testutil.Recv(t, got, waitLong).(payload)
	if !reflect.DeepEqual(m, payload{List: []int{1, 2, 3}, Map: map[string]int{"a": 1}}) {
		t.Fatalf("receiver saw %v: the message shares memory with the sender", m)
	}
	sys.Tell(ref, &seqMsg{N: 3}) // *T registered as T arrives as T, as it would remotely
	if m := testutil.Recv(t, got, waitLong); m != (seqMsg{N: 3}) {
		t.Fatalf("*seqMsg arrived as %#v", m)
	}
}

func TestMessageToUnknownActorIsReported(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	errs := errorsOf(sys)
	sys.Tell(&ActorRef{Address: sys.Addr(), Counter: 99}, seqMsg{})
	if err := testutil.Recv(t, errs, waitLong); !errors.Is(err, ErrNoSuchActor) {
		t.Fatalf("reported %v, want ErrNoSuchActor", err)
	}
}

func TestChannelRefTakesOneMessage(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	errs := errorsOf(sys)
	ref, ch := sys.NewChannelRef()
	if !sys.IsLocal(ref) || ref.Counter >= 0 {
		t.Fatalf("channel ref %s: want a local ref with a negative counter", ref.Uid())
	}
	sys.Tell(ref, seqMsg{N: 1})
	sys.Tell(ref, seqMsg{N: 2})
	if m := testutil.Recv(t, ch, waitLong).(seqMsg); m.N != 1 {
		t.Fatalf("channel ref got %v, want the first message", m)
	}
	if err := testutil.Recv(t, errs, waitLong); !errors.Is(err, ErrChannelRefUsed) {
		t.Fatalf("second message reported %v, want ErrChannelRefUsed", err)
	}
	testutil.NoRecv(t, ch, 20*time.Millisecond)
	if n := sys.Stats().ChannelRefsUsed; n != 1 {
		t.Fatalf("ChannelRefsUsed = %d, want 1", n)
	}
}

func TestChannelRefAnsweredByActor(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	ref, _ := startProbe(sys, 1)
	reply, ch := sys.NewChannelRef()
	sys.Tell(ref, forward{To: reply, Msg: "pong"})
	if m := testutil.Recv(t, ch, waitLong); m != "pong" {
		t.Fatalf("channel ref got %v", m)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	testutil.CheckGoroutines(t)
	sys, err := NewActorSystem(0)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := startProbe(sys, 1000)
	for i := range 100 {
		sys.Tell(ref, seqMsg{N: i})
		sys.TellAfter(ref, seqMsg{N: i}, time.Hour)
	}
	_, waiting := sys.NewChannelRef()
	dead := &ActorRef{Address: "127.0.0.1:1", Counter: 1} // nothing listens: its sender backs off
	sys.Tell(dead, seqMsg{})
	testutil.Eventually(t, waitLong, func() bool { return sys.Stats().MessagesUndelivered == 1 }, "message to a dead address counted")

	testutil.Within(t, waitLong, "Close", sys.Close)
	select {
	case v, ok := <-waiting:
		if ok {
			t.Fatalf("a waiting channel ref got %v instead of being closed", v)
		}
	default:
		t.Fatal("Close left a waiting channel ref open")
	}
	testutil.Within(t, waitLong, "second Close", sys.Close)
	sys.Tell(ref, seqMsg{})
	sys.TellAfter(ref, seqMsg{}, time.Millisecond)
	sys.Tell(dead, seqMsg{})
	sys.StartActor(func(ctx *ActorContext) Actor { return &probe{ctx: ctx} })
	if _, ch := sys.NewChannelRef(); ch == nil {
		t.Fatal("NewChannelRef after Close returned a nil channel")
	}
}

func TestConstructorReturningNilOrPanicking(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	errs := errorsOf(sys)
	ref := sys.StartActor(func(*ActorContext) Actor { return nil })
	if err := testutil.Recv(t, errs, waitLong); err == nil {
		t.Fatal("no report for a nil actor")
	}
	sys.Tell(ref, seqMsg{})
	if err := testutil.Recv(t, errs, waitLong); !errors.Is(err, ErrNoSuchActor) {
		t.Fatalf("message to the nil actor reported %v, want ErrNoSuchActor", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the constructor's panic did not reach the caller")
			}
		}()
		sys.StartActor(func(*ActorContext) Actor { panic("no") })
	}()
	sys.Tell(&ActorRef{Address: sys.Addr(), Counter: ref.Counter + 1}, seqMsg{})
	if err := testutil.Recv(t, errs, waitLong); !errors.Is(err, ErrNoSuchActor) {
		t.Fatalf("message to the panicked actor reported %v, want ErrNoSuchActor", err)
	}
}

func TestCloseUnderLoad(t *testing.T) {
	testutil.CheckGoroutines(t)
	a, err := NewActorSystem(0)
	if err != nil {
		t.Fatal(err)
	}
	b := newSystem(t)
	discard := func(*ActorContext) Actor { return discarder{} }
	local, remote := a.StartActor(discard), b.StartActor(discard)
	fwd := a.StartActor(func(ctx *ActorContext) Actor { return &burster{ctx} })
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch (g + i) % 5 {
				case 0:
					a.Tell(local, seqMsg{N: i})
				case 1:
					a.Tell(remote, seqMsg{N: i})
				case 2:
					a.TellAfter(local, seqMsg{N: i}, time.Millisecond)
				case 3:
					reply, _ := a.NewChannelRef()
					b.Tell(reply, seqMsg{N: i})
				case 4:
					a.Tell(fwd, burstReq{To: *remote, From: "fwd", N: 10})
				}
			}
		})
	}
	testutil.Eventually(t, waitLong, func() bool { return a.Stats().MessagesSent > 2000 }, "traffic builds up")
	testutil.Within(t, waitLong, "Close under load", a.Close)
	close(stop)
	wg.Wait()
}

type discarder struct{}

func (discarder) OnMessage(any) error { return nil }
