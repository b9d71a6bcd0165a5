package labrpc

import (
	"math/rand/v2"
	"time"
)

// Fault-injection figures. They follow the MIT 6.5840 network so that tests written against
// that behaviour keep their meaning: about one request and one reply in ten lost when
// unreliable, two thirds of replies held back when reordering, and calls to an unreachable
// server that fail after up to 100 ms, or up to 7 s with long delays on.
const (
	maxShortDelay      = 27 * time.Millisecond   // unreliable: delay before the request is delivered
	dropPerMille       = 100                     // unreliable: chance (in 1000) to lose a request, and a reply
	reorderChance      = 2.0 / 3                 // long reordering: chance to hold a reply back
	minReorderDelay    = 200 * time.Millisecond  // long reordering: a held-back reply waits at least this
	maxReorderExtra    = 2000 * time.Millisecond // ... plus up to this much more
	maxDeadDelay       = 100 * time.Millisecond  // a call to an unreachable server fails within this
	maxLongDeadDelay   = 7000 * time.Millisecond // ... or within this with long delays on
	reorderDelayQuanta = time.Millisecond
)

// faults is the network's fault-injection setting at the moment a call is made.
type faults struct {
	reliable       bool
	longReordering bool
	longDelays     bool
}

// fate is what the network does to one call to a reachable server, decided up front so the
// delivery code only carries it out. Keeping the decision a pure function of the settings and a
// random source lets tests check the odds without running a network.
type fate struct {
	requestDelay time.Duration // wait this long before delivering the request
	dropRequest  bool          // lose the request: the handler never runs
	dropReply    bool          // run the handler but lose its reply
	replyDelay   time.Duration // hold a delivered reply back this long
}

// decide returns the fate of one call to a reachable server.
func (f faults) decide(r *rand.Rand) fate {
	var ft fate
	if !f.reliable {
		ft.requestDelay = time.Duration(r.Int64N(int64(maxShortDelay)))
		ft.dropRequest = r.IntN(1000) < dropPerMille
		ft.dropReply = r.IntN(1000) < dropPerMille
	}
	if f.longReordering && r.Float64() < reorderChance {
		// A skewed extra delay: most held-back replies come back within a few hundred
		// milliseconds, a few take seconds, so replies overtake each other at every scale.
		extra := r.Int64N(1 + r.Int64N(int64(maxReorderExtra/reorderDelayQuanta)))
		ft.replyDelay = minReorderDelay + time.Duration(extra)*reorderDelayQuanta
	}
	return ft
}

// unreachableDelay returns how long a call to a disabled end or a missing server takes to fail,
// like a real RPC that waits for a timeout.
func (f faults) unreachableDelay(r *rand.Rand) time.Duration {
	if f.longDelays {
		return time.Duration(r.Int64N(int64(maxLongDeadDelay)))
	}
	return time.Duration(r.Int64N(int64(maxDeadDelay)))
}
