package squarer_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
	"ds440/squarer"
	"ds440/squarer/squarertest"
)

// timeout bounds every wait of these tests. They run in synctest bubbles, whose clock moves
// only when everything is blocked, so a correct squarer never lets it expire, and a bubble that
// still holds a goroutine when its test ends fails it: no goroutine is leaked.
const timeout = 5 * time.Second

func TestContract(t *testing.T) {
	t.Parallel()
	squarertest.Run(t, squarer.New)
}

// Beyond the contract: closing the input stops the squarer and closes the output.
func TestClosingInputClosesOutput(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		sq := squarer.New()
		in := make(chan int)
		out := sq.Initialize(in)
		in <- 8
		if got := testutil.Recv(t, out, timeout); got != 64 {
			t.Fatalf("square of 8 = %d, want 64", got)
		}
		close(in)
		assertClosedWithin(t, out)
		testutil.Within(t, timeout, "Close after the input was closed", sq.Close)
	})
}

// Beyond the contract: Close closes the output, so a reader ranging over it stops too.
func TestCloseClosesOutput(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		sq := squarer.New()
		out := sq.Initialize(make(chan int))
		testutil.Within(t, timeout, "Close", sq.Close)
		assertClosedWithin(t, out)
	})
}

// A squarer runs once: initializing it again, or after Close, starts nothing and returns a
// closed channel.
func TestInitializeRunsOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		sq := squarer.New()
		in := make(chan int)
		out := sq.Initialize(in)
		assertClosedWithin(t, sq.Initialize(make(chan int)))
		in <- 3
		if got := testutil.Recv(t, out, timeout); got != 9 {
			t.Fatalf("square of 3 = %d, want 9", got)
		}
		testutil.Within(t, timeout, "Close", sq.Close)
		assertClosedWithin(t, sq.Initialize(make(chan int)))

		never := squarer.New()
		testutil.Within(t, timeout, "Close", never.Close)
		assertClosedWithin(t, never.Initialize(make(chan int)))
	})
}

// A nil input never delivers a value, but the squarer still stops on Close.
func TestNilInput(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		sq := squarer.New()
		out := sq.Initialize(nil)
		synctest.Wait() // the squarer is blocked: it offers a value now or never
		select {
		case v, ok := <-out:
			t.Fatalf("got %d (open: %v) from a squarer with a nil input", v, ok)
		default:
		}
		testutil.Within(t, timeout, "Close", sq.Close)
		assertClosedWithin(t, out)
	})
}

// Initialize and Close racing from different goroutines leave nothing running, whichever wins.
func TestInitializeRacesClose(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		for range 200 {
			sq := squarer.New()
			var wg sync.WaitGroup
			wg.Go(func() { sq.Initialize(make(chan int)) })
			wg.Go(sq.Close)
			testutil.Within(t, timeout, "Initialize racing Close", wg.Wait)
			testutil.Within(t, timeout, "a second Close", sq.Close)
		}
	})
}

func assertClosedWithin(t *testing.T, out <-chan int) {
	t.Helper()
	select {
	case v, ok := <-out:
		if ok {
			t.Fatalf("got %d, want a closed output", v)
		}
	case <-time.After(timeout):
		t.Fatalf("output not closed within %v", timeout)
	}
}
