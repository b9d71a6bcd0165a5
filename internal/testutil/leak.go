package testutil

import (
	"bytes"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// leakGrace is how long CheckGoroutines lets goroutines finish after a test ends. Closing a
// socket or a channel wakes its goroutines at once, but they still need to be scheduled.
const leakGrace = 5 * time.Second

// CheckGoroutines records the goroutines alive now and, when the test ends, fails it if any
// goroutine started since is still running after a short grace period. Call it first in a test
// (before starting servers) so its cleanup runs last, after every other cleanup has closed
// what the test opened. Tests that use it must not run in parallel with others of their package.
func CheckGoroutines(tb testing.TB) {
	tb.Helper()
	checkGoroutines(tb, leakGrace)
}

func checkGoroutines(tb testing.TB, grace time.Duration) {
	before := goroutineIDs()
	tb.Cleanup(func() {
		var leaked []string
		ok := WaitUntil(grace, func() bool {
			leaked = leakedSince(before)
			return len(leaked) == 0
		})
		if !ok {
			tb.Errorf("%d goroutine(s) leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	})
}

// goroutineIDs returns the ids of the interesting goroutines alive now.
func goroutineIDs() map[string]bool {
	ids := make(map[string]bool)
	for _, g := range goroutineStacks() {
		ids[goroutineID(g)] = true
	}
	return ids
}

// leakedSince returns the stacks of interesting goroutines not present in before.
func leakedSince(before map[string]bool) []string {
	var leaked []string
	for _, g := range goroutineStacks() {
		if !before[goroutineID(g)] {
			leaked = append(leaked, g)
		}
	}
	sort.Strings(leaked)
	return leaked
}

// goroutineStacks returns one stack trace per goroutine, leaving out the caller's own goroutine
// and those that belong to the runtime or the testing framework.
func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		s := string(g)
		if i == 0 || ignorable(s) { // the first stack is always the calling goroutine
			continue
		}
		out = append(out, s)
	}
	return out
}

// ignorable reports whether a goroutine belongs to the runtime or the testing framework rather
// than to the code under test.
func ignorable(stack string) bool {
	for _, frame := range []string{
		"testing.tRunner(",
		"testing.runTests(",
		"testing.(*M).",
		"testing.runFuzzing(",
		"testing.(*F).",
		"testing.(*B).",
		"os/signal.signal_recv",
		"runtime.ensureSigM",
		"created by runtime.gc",
		"runtime.goexit0",
	} {
		if strings.Contains(stack, frame) {
			return true
		}
	}
	return false
}

// goroutineID returns the "goroutine N" prefix of a stack trace.
func goroutineID(stack string) string {
	if i := strings.Index(stack, " ["); i > 0 {
		return stack[:i]
	}
	return stack
}
