//go:build linux

package kvserver

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// threadPolicy returns the scheduling policy of the calling thread, from /proc.
func threadPolicy(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/thread-self/stat")
	if err != nil {
		t.Skipf("no /proc/thread-self: %v", err)
	}
	// The fields after the command name, which is in parentheses; policy is field 41.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return fields[41-3]
}

// The loop's thread becomes a batch thread once rounds read several clients on average, and
// an ordinary one again once they read about one, without flapping in between.
func TestAdaptSchedulingPolicy(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread, with its policy, ends here
		p := &poller{ownThread: true}
		step := func(n, rounds int, wantBatch bool, wantPolicy string) {
			for range rounds {
				p.adapt(n)
			}
			if p.batch != wantBatch {
				t.Errorf("after %d rounds of %d clients: batch %v, want %v", rounds, n, p.batch, wantBatch)
			}
			if got := threadPolicy(t); got != wantPolicy {
				t.Errorf("after %d rounds of %d clients: thread policy %s, want %s", rounds, n, got, wantPolicy)
			}
		}
		step(1, 50, false, "0") // a lone client: ordinary
		step(8, 50, true, "3")  // bursts from many clients: SCHED_BATCH
		step(2, 50, true, "3")  // two per round: between the thresholds, it stays
		step(1, 50, false, "0") // back to one: ordinary again
		step(2, 50, false, "0") // and two does not make it a batch thread
	}()
	<-done
}

// A loop without a thread of its own (one that parks in the runtime's poller) never changes
// the policy of the thread it happens to run on.
func TestAdaptWithoutOwnThread(t *testing.T) {
	t.Parallel()
	p := &poller{}
	for range 50 {
		p.adapt(10)
	}
	if p.batch {
		t.Error("a loop without a thread of its own changed its policy")
	}
}
