package actor

import (
	"math/rand/v2"
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
