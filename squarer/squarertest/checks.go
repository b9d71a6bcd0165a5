package squarertest

import (
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"ds440/squarer"
)

// Sizes of the streaming checks: long enough that a flaw striking once in a few hundred values
// shows, short enough for the race detector.
const (
	streamLen   = 2000
	producers   = 4
	perProducer = 500
)

// checkSquares pins "n*n is sent": small, negative and extreme values, one at a time. The
// contract is n*n in Go's int arithmetic, which wraps around on overflow, so the extremes
// catch squarers that compute in a narrower or floating-point type, or saturate.
func checkSquares(t testing.TB, newSquarer func() squarer.Squarer) {
	h := start(t, newSquarer)
	h.assertNoMore(t, "before any input")
	for _, n := range interestingInts() {
		h.roundTrip(t, n)
	}
}

// interestingInts returns the values checkSquares squares, leaving out those that do not fit
// in an int on this platform.
func interestingInts() []int {
	candidates := []int64{
		0, 1, -1, 2, -2, 3, -3, 10, -12, 255, 256, -65535,
		46340, 46341, -46341, // the square of 46341 is the first to overflow int32
		65536, -65536,
		94906266, 94906267, -94906267, // 94906267 is the first whose square float64 cannot hold
		3037000499, -3037000499, // the largest whose square fits in int64
		3037000500, -3037000500, // the smallest whose square overflows int64
		1 << 32, -(1 << 32), 1 << 62,
		math.MaxInt32, math.MinInt32,
		math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1,
	}
	var ns []int
	for _, n := range candidates {
		if int64(int(n)) == n {
			ns = append(ns, int(n))
		}
	}
	return ns
}

// checkOrder pins "in input order": a long stream from a producer comes back squared, in
// order, with nothing dropped, duplicated or added.
func checkOrder(t testing.TB, newSquarer func() squarer.Squarer) {
	h := start(t, newSquarer)
	// Neighbours have distinct squares (but either side of zero), so a wrong square can be
	// told apart as a drop or a duplicate.
	value := func(i int) int { return (i - streamLen/10) * 7919 }
	var f flow
	h.produce(t, &f, streamLen, value)
	for i := range streamLen {
		got := h.receive(t, "square of value #%d of %d", i, streamLen)
		f.received.Add(1)
		if want := value(i) * value(i); got != want {
			hint := ""
			switch {
			case i+1 < streamLen && got == value(i+1)*value(i+1):
				hint = ": that is the next value's square, so one was dropped"
			case i > 0 && got == value(i-1)*value(i-1):
				hint = ": that is the previous value's square, so one was duplicated"
			}
			t.Fatalf("value #%d of the stream: got %d, want %d (the square of %d)%s", i, got, want, value(i), hint)
		}
	}
	h.assertNoMore(t, "after the last square")
}

// checkNoReadAhead pins "the squarer reads the next input only after the previous square has
// been received" and "the output is unbuffered".
func checkNoReadAhead(t testing.TB, newSquarer func() squarer.Squarer) {
	h := start(t, newSquarer)
	if c := cap(h.out); c != 0 {
		t.Errorf("output channel has capacity %d, want 0: a buffer lets the squarer read ahead", c)
	}
	for round := range 3 {
		first, second := 10*round+4, 10*round+5
		h.send(t, first)
		synctest.Wait()
		if h.takesInput(second) {
			t.Fatalf("squarer read %d before the square of %d was received: it reads ahead", second, first)
		}
		h.expect(t, first)
		h.roundTrip(t, second)
	}
}

// checkConcurrentProducers pins the contract under concurrent producers: every value is
// squared exactly once, each producer's values come back in the order it sent them, and the
// squarer still holds at most one value at a time.
func checkConcurrentProducers(t testing.TB, newSquarer func() squarer.Squarer) {
	h := start(t, newSquarer)
	type origin struct{ producer, index int }
	origins := make(map[int]origin, producers*perProducer)
	var f flow
	for p := range producers {
		// Positive and distinct across producers, so every square names its value.
		value := func(i int) int { return p*perProducer + i + 1 }
		for i := range perProducer {
			origins[value(i)*value(i)] = origin{p, i}
		}
		h.produce(t, &f, perProducer, value)
	}
	next := make([]int, producers)
	for k := range producers * perProducer {
		// Every producer is now waiting with a value, so a squarer that takes more than the
		// next one after this square is received is caught at once, not when scheduling
		// happens to line the producers up.
		synctest.Wait()
		got := h.receive(t, "square #%d of %d", k, producers*perProducer)
		f.received.Add(1)
		o, ok := origins[got]
		switch {
		case !ok:
			t.Fatalf("square #%d is %d, the square of no value sent", k, got)
		case o.index < next[o.producer]:
			t.Fatalf("producer %d: value #%d squared again after #%d (duplicated or reordered)", o.producer, o.index, next[o.producer]-1)
		case o.index > next[o.producer]:
			t.Fatalf("producer %d: value #%d squared while #%d was still due (dropped or reordered)", o.producer, o.index, next[o.producer])
		}
		next[o.producer]++
	}
	h.assertNoMore(t, "after the last square")
}

// checkCloseUnblocksReceive pins "Close returns once its goroutine has exited, even if nobody
// writes the input", for a squarer waiting for its first input and for its next one.
func checkCloseUnblocksReceive(t testing.TB, newSquarer func() squarer.Squarer) {
	fresh := start(t, newSquarer)
	fresh.closeBlocked(t, "Close of a squarer waiting for its first input")

	used := start(t, newSquarer)
	used.roundTrip(t, 2)
	used.roundTrip(t, 3)
	used.closeBlocked(t, "Close of a squarer waiting for its next input")
}

// checkCloseUnblocksSend pins "Close returns once its goroutine has exited, even if nobody
// reads the output": the squarer holds a square nobody receives, and never delivers it.
func checkCloseUnblocksSend(t testing.TB, newSquarer func() squarer.Squarer) {
	first := start(t, newSquarer)
	first.send(t, 6)
	first.closeBlocked(t, "Close of a squarer holding a square nobody receives")

	later := start(t, newSquarer)
	later.roundTrip(t, 2)
	later.send(t, 9)
	later.closeBlocked(t, "Close of a squarer holding its second square, which nobody receives")
}

// checkCloseStops pins "Close stops the squarer" while others still use its channels: Close
// returns, and the squarer then neither reads nor sends, whether a producer is waiting to hand
// it a value or a stream is in full flow.
func checkCloseStops(t testing.TB, newSquarer func() squarer.Squarer) {
	// A squarer holding a square nobody receives, with a producer waiting behind it.
	h := start(t, newSquarer)
	h.send(t, 3)
	var waiting flow
	stopProducer := h.produce(t, &waiting, 1, func(int) int { return 4 })
	synctest.Wait()
	if !h.close(t, "Close of a squarer holding a square, with a producer waiting") {
		t.FailNow()
	}
	synctest.Wait()
	if n := waiting.read.Load(); n != 0 {
		t.Errorf("squarer read the waiting producer's value during Close")
	}
	stopProducer()
	h.assertStopped(t)

	// A squarer in the middle of a stream, with a producer and a consumer busy.
	h = start(t, newSquarer)
	var f flow
	stopProducer = h.produce(t, &f, math.MaxInt, func(i int) int { return i })

	const warmUp = 100 // squares received before Close, so the stream is in full flow
	flowing := make(chan struct{})
	quit := make(chan struct{})
	var consumer sync.WaitGroup
	consumer.Go(func() {
		for n := 0; ; n++ {
			if n == warmUp {
				close(flowing)
			}
			select {
			case _, ok := <-h.out:
				if !ok {
					return
				}
				f.received.Add(1)
			case <-quit:
				return
			}
		}
	})
	stopConsumer := sync.OnceFunc(func() {
		close(quit)
		consumer.Wait()
	})
	t.Cleanup(stopConsumer)

	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case <-flowing:
	case <-timer.C:
		t.Fatalf("fewer than %d squares received within %v", warmUp, patience)
	}
	if !h.close(t, "Close in the middle of a stream") {
		t.FailNow()
	}
	// Stop both before probing, so that any read or send now is the squarer's own doing.
	stopProducer()
	stopConsumer()
	h.assertStopped(t)
}

// checkCloseIdempotent pins "a second Close is a no-op": a second Close returns promptly and
// does not panic, and so do several Closes at once.
func checkCloseIdempotent(t testing.TB, newSquarer func() squarer.Squarer) {
	h := start(t, newSquarer)
	h.roundTrip(t, 5)
	if !h.close(t, "first Close") {
		t.FailNow()
	}
	closeWithin(t, h.sq, "second Close")
	h.assertStopped(t)

	const closers = 4
	h = start(t, newSquarer)
	h.roundTrip(t, 5)
	h.closed = true
	var wg sync.WaitGroup
	for range closers {
		wg.Go(func() { closeWithin(t, h.sq, "one of several concurrent Closes") })
	}
	wg.Wait()
	h.assertStopped(t)
}

// checkCloseUninitialized pins "Close on a squarer that was never initialized is a no-op".
func checkCloseUninitialized(t testing.TB, newSquarer func() squarer.Squarer) {
	sq := newSquarer()
	if closeWithin(t, sq, "Close of a squarer never initialized") {
		closeWithin(t, sq, "second Close of a squarer never initialized")
	}
}

// checkNoGoroutineLeak pins "Close returns once its goroutine has exited" for many squarers,
// closed idle and closed while holding a square; runCheck then requires every goroutine the
// check started to be gone.
func checkNoGoroutineLeak(t testing.TB, newSquarer func() squarer.Squarer) {
	for i := range 20 {
		h := start(t, newSquarer)
		h.roundTrip(t, i)
		if i%2 == 1 {
			h.send(t, i)
		}
		if !h.close(t, "Close") {
			t.FailNow()
		}
	}
}
