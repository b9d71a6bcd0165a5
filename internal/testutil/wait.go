package testutil

import (
	"fmt"
	"testing"
	"time"
)

// pollInterval is how often Eventually re-checks its condition. Conditions are cheap reads of
// counters or state, so a short interval keeps tests fast without spinning a core.
const pollInterval = 2 * time.Millisecond

// Eventually waits until cond returns true, failing the test with the formatted message if it
// is still false after timeout. Use it for state that has no event to wait on (counters, sizes);
// where a channel delivers the event, use Recv instead.
func Eventually(tb testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	tb.Helper()
	if !WaitUntil(timeout, cond) {
		tb.Fatalf("condition not met within %v: %s", timeout, fmt.Sprintf(format, args...))
	}
}

// WaitUntil reports whether cond became true within timeout. It is Eventually for callers that
// want to decide themselves what a timeout means.
func WaitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollInterval)
	}
}

// Recv receives one value from ch, failing the test if none arrives within timeout or if ch is
// closed.
func Recv[T any](tb testing.TB, ch <-chan T, timeout time.Duration) T {
	tb.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case v, ok := <-ch:
		if !ok {
			tb.Fatalf("channel closed while waiting for a value")
		}
		return v
	case <-timer.C:
		tb.Fatalf("no value received within %v", timeout)
	}
	panic("unreachable")
}

// NoRecv fails the test if ch delivers a value (or is closed) within d. It is the one place a
// test legitimately waits out a period: to show that something does not happen.
func NoRecv[T any](tb testing.TB, ch <-chan T, d time.Duration) {
	tb.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case v, ok := <-ch:
		if ok {
			tb.Fatalf("unexpected value %v received within %v", v, d)
		}
		tb.Fatalf("channel unexpectedly closed within %v", d)
	case <-timer.C:
	}
}

// Within runs f and fails the test if it has not returned after timeout. The goroutine running
// f is left behind on a timeout (it cannot be stopped), so use Within for calls that are meant
// to return promptly, such as Close.
func Within(tb testing.TB, timeout time.Duration, what string, f func()) {
	tb.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		tb.Fatalf("%s did not return within %v", what, timeout)
	}
}
