package actor

import (
	"fmt"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// TestSoakRemoteRestarts restarts a remote system again and again under a stream of messages
// from a sender that never stops: every message is delivered in order or counted
// undelivered, and the sender recovers after each restart.
func TestSoakRemoteRestarts(t *testing.T) {
	testutil.RequireSoak(t)
	testutil.CheckGoroutines(t)
	a := newSystem(t)
	port := testutil.FreePort(t)
	const cycles, perCycle = 30, 20000
	for cycle := range cycles {
		b, err := NewActorSystem(port)
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		checker, done := startChecker(b, perCycle)
		from := fmt.Sprint("cycle", cycle)
		before := a.Stats().MessagesUndelivered
		for i := range perCycle {
			a.Tell(checker, seqMsg{From: from, N: i})
		}
		select {
		case r := <-done:
			if r[1] != 0 {
				t.Fatalf("cycle %d: %d of %d out of order", cycle, r[1], r[0])
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("cycle %d: stream incomplete; undelivered %d", cycle, a.Stats().MessagesUndelivered-before)
		}
		for i := range 1000 { // in flight as b goes down: delivered or counted, never stuck
			a.Tell(checker, seqMsg{From: from, N: perCycle + i})
		}
		b.Close()
		testutil.Eventually(t, time.Minute, func() bool { return a.PendingRemote(b.Addr()) == 0 },
			"cycle %d: messages for the closed system delivered or counted", cycle)
	}
}
