package raft

import (
	"context"
	"sync"
	"testing"
	"time"
)

// blackHole is a Peer that never answers: each call waits until it is abandoned. It records how
// many calls were in flight at most.
type blackHole struct {
	mu             sync.Mutex
	inflight, most int
	calls          int
}

func (b *blackHole) Call(string, any, any) bool {
	panic("Raft must use CallContext when the Peer has it")
}

func (b *blackHole) CallContext(ctx context.Context, _ string, _, _ any) bool {
	b.mu.Lock()
	b.calls++
	b.inflight++
	b.most = max(b.most, b.inflight)
	b.mu.Unlock()
	<-ctx.Done()
	b.mu.Lock()
	b.inflight--
	b.mu.Unlock()
	return false
}

// TestSendersAreBoundedAndKillEndsCalls runs a server whose peers never answer for many
// election timeouts: it keeps campaigning, yet no more than sendersPerPeer calls per peer are
// ever in flight (the oldest give way to new messages), and Kill ends the calls in flight and
// every goroutine at once (synctest.Test fails the test if one is left).
func TestSendersAreBoundedAndKillEndsCalls(t *testing.T) {
	simulate(t, func(t *testing.T) {
		holes := []*blackHole{nil, {}, {}}
		rf, err := New(Config{Peers: []Peer{nil, holes[1], holes[2]}, Me: 0,
			Persister: NewMemoryPersister(), ApplyCh: make(chan ApplyMsg)})
		if err != nil {
			t.Fatal(err)
		}
		const period = 100 * DefaultElectionTimeout
		runFor(period) // about 60 elections, each a vote request per peer
		start := time.Now()
		rf.Kill()
		if d := time.Since(start); d != 0 {
			t.Fatalf("Kill took %v: it waited for calls it could abandon", d)
		}
		for i, h := range holes[1:] {
			h.mu.Lock()
			calls, most, left := h.calls, h.most, h.inflight
			h.mu.Unlock()
			if calls < 3*sendersPerPeer { // without abandoning, the first sendersPerPeer calls would block the rest
				t.Errorf("peer %d: only %d calls in %v of elections", i+1, calls, period)
			}
			if most > sendersPerPeer {
				t.Errorf("peer %d: %d calls in flight at once, more than the %d senders", i+1, most, sendersPerPeer)
			}
			if left != 0 {
				t.Errorf("peer %d: %d calls still in flight after Kill", i+1, left)
			}
		}
	})
}
