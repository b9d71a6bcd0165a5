package squarertest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"ds440/squarer"
)

// handle is a squarer under test with the two ends of its channels. Every blocking step fails
// the check after patience rather than hanging it.
type handle struct {
	sq     squarer.Squarer
	in     chan int
	out    <-chan int
	closed bool // the check called Close itself, so the cleanup does not
}

// start makes and initializes a squarer and closes it when the check ends, unless the check
// closes it itself.
func start(t testing.TB, newSquarer func() squarer.Squarer) *handle {
	t.Helper()
	h := &handle{sq: newSquarer(), in: make(chan int)}
	h.out = h.sq.Initialize(h.in)
	if h.out == nil {
		t.Fatalf("Initialize returned a nil output channel")
	}
	t.Cleanup(func() {
		if !h.closed {
			h.close(t, "Close at the end of the check")
		}
	})
	return h
}

// send hands n to the squarer.
func (h *handle) send(t testing.TB, n int) {
	t.Helper()
	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case h.in <- n:
	case <-timer.C:
		t.Fatalf("squarer did not read the input %d within %v", n, patience)
	}
}

// receive returns the next value of the output.
func (h *handle) receive(t testing.TB, format string, args ...any) int {
	t.Helper()
	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case v, ok := <-h.out:
		if !ok {
			t.Fatalf("output closed while waiting for the %s", fmt.Sprintf(format, args...))
		}
		return v
	case <-timer.C:
		t.Fatalf("no %s within %v", fmt.Sprintf(format, args...), patience)
	}
	panic("unreachable")
}

// expect receives the square of n.
func (h *handle) expect(t testing.TB, n int) {
	t.Helper()
	if got := h.receive(t, "square of %d", n); got != n*n {
		t.Errorf("square of %d: got %d, want %d", n, got, n*n)
	}
}

// roundTrip sends n and receives its square.
func (h *handle) roundTrip(t testing.TB, n int) {
	t.Helper()
	h.send(t, n)
	h.expect(t, n)
}

// takesInput reports whether the squarer takes v at once. After synctest.Wait, that is whether
// it is waiting for an input.
func (h *handle) takesInput(v int) bool {
	select {
	case h.in <- v:
		return true
	default:
		return false
	}
}

// offered returns a value the squarer hands over at once. After synctest.Wait, that is the value
// it is offering, if any. A closed output offers nothing.
func (h *handle) offered() (v int, ok bool) {
	select {
	case v, ok = <-h.out:
		return v, ok
	default:
		return 0, false
	}
}

// assertNoMore checks that the squarer, once blocked, offers no value.
func (h *handle) assertNoMore(t testing.TB, when string) {
	t.Helper()
	synctest.Wait()
	if v, ok := h.offered(); ok {
		t.Errorf("unexpected value %d %s", v, when)
	}
}

// close calls Close and reports whether it returned, recording a failure if it did not.
func (h *handle) close(t testing.TB, situation string) bool {
	t.Helper()
	h.closed = true
	return closeWithin(t, h.sq, situation)
}

// closeBlocked waits for the squarer to block, closes it, ending the check if Close does not
// return, and checks that the squarer stays stopped.
func (h *handle) closeBlocked(t testing.TB, situation string) {
	t.Helper()
	synctest.Wait()
	if !h.close(t, situation) {
		t.FailNow()
	}
	h.assertStopped(t)
}

// closeWithin calls sq.Close and reports whether it returned within patience without
// panicking, recording a failure naming situation if not. It never fails the check at once, so
// cleanups and other goroutines may use it. A Close that hangs is left behind.
func closeWithin(t testing.TB, sq squarer.Squarer, situation string) bool {
	t.Helper()
	returned := make(chan any, 1)
	go func() {
		defer func() { returned <- recover() }()
		sq.Close()
	}()
	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case p := <-returned:
		if p != nil {
			t.Errorf("%s panicked: %v", situation, p)
			return false
		}
		return true
	case <-timer.C:
		t.Errorf("%s did not return within %v", situation, patience)
		return false
	}
}

// assertStopped checks that a closed squarer, once blocked, neither waits for an input nor offers
// a value. Its output may be closed.
func (h *handle) assertStopped(t testing.TB) {
	t.Helper()
	synctest.Wait()
	if h.takesInput(7) {
		t.Errorf("squarer read an input after Close returned")
	}
	if v, ok := h.offered(); ok {
		t.Errorf("squarer sent %d after Close returned", v)
	}
}

// flow counts the inputs the squarer has read and the squares the check has received, to catch
// a squarer that reads ahead while values stream through it. Each count is updated just after
// its channel operation, so each may lag by one, and a squarer that holds at most one value
// keeps read - received within 2.
type flow struct {
	read, received atomic.Int64
	reported       atomic.Bool
}

// noteRead counts an input just read and fails the check once if the squarer is reading ahead.
func (f *flow) noteRead(t testing.TB) {
	read := f.read.Add(1)
	received := f.received.Load()
	if read-received > 2 && !f.reported.Swap(true) {
		t.Errorf("squarer had read %d inputs when %d squares had been received: it reads ahead", read, received)
	}
}

// produce sends value(0), ..., value(n-1) from a goroutine of its own, counting them in f.
// The goroutine is stopped and waited for when the check ends, or earlier by calling the
// returned function.
func (h *handle) produce(t testing.TB, f *flow, n int, value func(i int) int) (stop func()) {
	t.Helper()
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			select {
			case h.in <- value(i):
				f.noteRead(t)
			case <-quit:
				return
			}
		}
	})
	stop = sync.OnceFunc(func() {
		close(quit)
		wg.Wait() // prompt: the producer's only blocking point also waits for quit
	})
	t.Cleanup(stop)
	return stop
}
