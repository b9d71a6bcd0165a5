package actor

import (
	"sync"
	"testing"
	"time"
)

// countingSink counts messages and closes done at the expected count. (A benchmark actor may
// share a channel with the benchmark to say it is finished.)
type countingSink struct {
	n, want int
	done    chan struct{}
}

func (c *countingSink) OnMessage(any) error {
	c.n++
	if c.n == c.want {
		close(c.done)
	}
	return nil
}

func startSink(sys *ActorSystem, want int) (*ActorRef, chan struct{}) {
	done := make(chan struct{})
	ref := sys.StartActor(func(*ActorContext) Actor { return &countingSink{want: want, done: done} })
	return ref, done
}

func reportRate(b *testing.B, n int, d time.Duration) {
	b.ReportMetric(float64(n)/d.Seconds(), "msgs/s")
}

// BenchmarkTellLocal: one sender outside the system, one receiving actor.
func BenchmarkTellLocal(b *testing.B) {
	sys := newSystem(b)
	benchTells(b, sys, sys)
}

// benchTells tells b.N messages from outside any actor of from to a sink actor of to.
func benchTells(b *testing.B, from, to *ActorSystem) {
	ref, done := startSink(to, b.N)
	msg := seqMsg{From: "bench", N: 1}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		from.Tell(ref, msg)
	}
	<-done
	reportRate(b, b.N, time.Since(start))
}

// BenchmarkTellLocalFanIn: eight senders, one receiving actor.
func BenchmarkTellLocalFanIn(b *testing.B) {
	const senders = 8
	sys := newSystem(b)
	per := b.N/senders + 1
	ref, done := startSink(sys, per*senders)
	msg := seqMsg{From: "bench", N: 1}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for range per {
				sys.Tell(ref, msg)
			}
		})
	}
	wg.Wait()
	<-done
	reportRate(b, per*senders, time.Since(start))
}

// readyReq asks an actor to answer true to Reply once it has handled what came before.
type readyReq struct{ Reply *ActorRef }

func init() { registerTestTypes(readyReq{}) }

// pinger answers every seqMsg with the next one until N reaches its limit.
type pinger struct {
	ctx   *ActorContext
	limit int
	done  chan struct{}
	peer  *ActorRef
}

func (p *pinger) OnMessage(m any) error {
	switch m := m.(type) {
	case *ActorRef:
		p.peer = m
	case ActorRef:
		p.peer = &m
	case readyReq:
		p.ctx.Tell(m.Reply, true)
	case seqMsg:
		if m.N >= p.limit {
			close(p.done)
			return nil
		}
		p.ctx.Tell(p.peer, seqMsg{From: m.From, N: m.N + 1})
	}
	return nil
}

func benchPingPong(b *testing.B, a, z *ActorSystem) {
	done := make(chan struct{})
	var limit = 2 * b.N
	left := a.StartActor(func(ctx *ActorContext) Actor { return &pinger{ctx: ctx, limit: limit, done: done} })
	right := z.StartActor(func(ctx *ActorContext) Actor { return &pinger{ctx: ctx, limit: limit, done: done} })
	a.Tell(left, *right)
	z.Tell(right, *left)
	// The peers learn each other before the ball is served: each answers a readyReq told after
	// its peer's ref, and per-sender order delivers the ref first.
	for _, side := range []struct {
		sys *ActorSystem
		ref *ActorRef
	}{{a, left}, {z, right}} {
		reply, ready := side.sys.NewChannelRef()
		side.sys.Tell(side.ref, readyReq{Reply: reply})
		<-ready
	}
	b.ResetTimer()
	start := time.Now()
	a.Tell(left, seqMsg{N: 0})
	<-done
	d := time.Since(start)
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "ns/roundtrip")
	reportRate(b, 2*b.N, d)
}

// BenchmarkPingPongLocal: two actors of one system hit one message back and forth.
func BenchmarkPingPongLocal(b *testing.B) {
	sys := newSystem(b)
	benchPingPong(b, sys, sys)
}

// BenchmarkPingPongRemote: the same across two systems over loopback TCP: the round trip.
func BenchmarkPingPongRemote(b *testing.B) {
	benchPingPong(b, newSystem(b), newSystem(b))
}

// BenchmarkTellRemote: one sender, one actor in another system over loopback TCP.
func BenchmarkTellRemote(b *testing.B) {
	benchTells(b, newSystem(b), newSystem(b))
}

// BenchmarkCopyMessage is the gob round trip every tell pays.
func BenchmarkCopyMessage(b *testing.B) {
	msg := seqMsg{From: "bench", N: 1}
	b.ReportAllocs()
	for range b.N {
		if _, _, err := copyMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMailboxVsChannel moves b.N messages from one goroutine to another through a Mailbox
// and through a buffered channel (capacity 1024, the usual Go baseline, which unlike the
// mailbox blocks the sender when full) and reports mailbox time over channel time.
func BenchmarkMailboxVsChannel(b *testing.B) {
	mailbox := timeIt(func() {
		m := NewMailbox()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range b.N {
				m.Pop()
			}
		}()
		for i := range b.N {
			m.Push(i)
		}
		<-done
	})
	channel := timeIt(func() {
		ch := make(chan any, 1024)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range b.N {
				<-ch
			}
		}()
		for i := range b.N {
			ch <- i
		}
		<-done
	})
	b.ReportMetric(float64(mailbox.Nanoseconds())/float64(b.N), "mailbox-ns/msg")
	b.ReportMetric(float64(channel.Nanoseconds())/float64(b.N), "chan-ns/msg")
	b.ReportMetric(mailbox.Seconds()/channel.Seconds(), "x-baseline")
}

func timeIt(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
