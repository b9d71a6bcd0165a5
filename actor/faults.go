package actor

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Faults are the network faults a system adds to its remote tells, on the sending side: a WAN
// modelled without a WAN. The zero value adds none.
type Faults struct {
	// Latency delays every remote tell by this much (one-way) without lowering throughput:
	// each message gets a departure time when it is told, and the remote sender sends, in one
	// batch, every message whose time has come, so five messages told together arrive together
	// one latency later.
	Latency time.Duration
	// Loss is the probability that a remote tell is dropped, as if the network lost it; it is
	// counted in Stats.MessagesUndelivered. 1 cuts the link (a partition).
	Loss float64
}

// defaultLatency is the latency of systems made by NewActorSystem and Listen: the contract's
// process-wide knob, kept only for SetArtificialLatency. Systems made by New have their own.
var defaultLatency atomic.Int64 // nanoseconds

// SetArtificialLatency delays every remote tell sent by any system of this process made by
// NewActorSystem or Listen by d (one-way, on the sender's side) without lowering throughput:
// messages are in flight together, not queued behind each other's delay. 0 turns it off.
//
// It is the contract's process-wide form; a system made by New takes its faults from
// Config.Faults and SetLinkFaults instead, so tests that model different WANs can run at once.
func SetArtificialLatency(d time.Duration) {
	defaultLatency.Store(int64(max(d, 0)))
}

// processFaults are the faults of systems that follow SetArtificialLatency.
func processFaults() Faults { return Faults{Latency: time.Duration(defaultLatency.Load())} }

// SetLinkFaults sets the faults of the link from this system to the remote system at addr
// ("host:port"), in place of the system's own; the zero Faults heals the link. Messages
// already told keep the departure time they were given.
func (s *ActorSystem) SetLinkFaults(addr string, f Faults) {
	s.links.Store(addr, f)
}

// faultsTo returns the faults of the link to addr.
func (s *ActorSystem) faultsTo(addr string) Faults {
	if f, ok := s.links.Load(addr); ok {
		return f.(Faults)
	}
	return s.faults()
}

// departure decides the fate of a message told now to addr: lost, or the time it may leave
// (zero: at once).
func (s *ActorSystem) departure(addr string) (due time.Time, lost bool) {
	f := s.faultsTo(addr)
	if f.Loss > 0 && rand.Float64() < f.Loss {
		return time.Time{}, true
	}
	if f.Latency <= 0 {
		return time.Time{}, false
	}
	return time.Now().Add(f.Latency), false
}
