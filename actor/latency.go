package actor

import (
	"sync/atomic"
	"time"
)

var artificialLatency atomic.Int64 // nanoseconds

// SetArtificialLatency delays every remote tell sent by any system of this process by d
// (one-way, on the sender's side) without lowering throughput: messages are in flight
// together, not queued behind each other's delay. Tests use it to model a WAN. 0 turns it off.
//
// Each message gets a departure time when it is told; the remote sender sends, in one batch,
// every message whose time has come, so five messages told together arrive together one
// latency later.
func SetArtificialLatency(d time.Duration) {
	artificialLatency.Store(int64(max(d, 0)))
}

// departure returns when a message told now may leave: zero (at once) without latency.
func departure() time.Time {
	d := artificialLatency.Load()
	if d == 0 {
		return time.Time{}
	}
	return time.Now().Add(time.Duration(d))
}
