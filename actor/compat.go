package actor

import (
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// This file keeps the contract's older shape: a constructor by port and a process-wide latency.
// New(Config) is the API beside it, with faults per system and per link.

// NewActorSystem starts a system that serves remote tells over net/rpc on 127.0.0.1:port; port
// 0 picks a free port (see Addr). Its remote tells follow SetArtificialLatency; it logs nothing.
// It is New(Config{Addr: "127.0.0.1:port"}) with the process-wide latency for faults.
func NewActorSystem(port int) (*ActorSystem, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("%w: port %d", ErrBadAddress, port)
	}
	return start(Config{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}, processFaults)
}

// defaultLatency is the latency of systems made by NewActorSystem: the contract's process-wide
// knob, actor's one piece of process-wide mutable state, kept only for SetArtificialLatency.
var defaultLatency atomic.Int64 // nanoseconds

// SetArtificialLatency delays every remote tell sent by any system of this process made by
// NewActorSystem by d (one-way, on the sender's side) without lowering throughput: messages
// are in flight together, not queued behind each other's delay. 0 turns it off.
//
// It is the contract's process-wide form; a system made by New takes its faults from
// Config.Faults and SetLinkFaults instead, so tests that model different WANs can run at once.
func SetArtificialLatency(d time.Duration) {
	defaultLatency.Store(int64(max(d, 0)))
}

// processFaults are the faults of systems that follow SetArtificialLatency.
func processFaults() Faults { return Faults{Latency: time.Duration(defaultLatency.Load())} }
