package labrpc

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"sync"
	"time"
)

// handlerGrace is how long Cleanup waits for handlers that are still running. Handlers are the
// services' code; one that never returns is their bug, and Cleanup must return regardless.
const handlerGrace = 10 * time.Second

// Network is a simulated RPC network inside one process. Client ends are connected to servers
// by name; the test controls which ends are enabled (partitions), whether the network loses,
// delays and reorders messages, and reads how many RPCs and bytes went through. It starts no
// goroutine of its own: each call runs on its caller's goroutine plus one goroutine for the
// handler, and Cleanup stops them all.
type Network struct {
	mu          sync.Mutex
	faults      faults
	rng         *rand.Rand
	enabled     map[any]bool // endname -> may it send?
	connections map[any]any  // endname -> servername
	servers     map[any]*Server
	changed     chan struct{} // closed and replaced whenever reachability may have changed
	count       int           // RPCs sent through the network
	bytes       int64         // bytes of arguments and replies that crossed it
	logger      *slog.Logger
	warned      map[string]bool
	warnings    []string
	checked     map[reflect.Type]bool // RPC types already checked for gob problems
	closed      bool
	done        chan struct{} // closed by Cleanup
	inflight    int           // handlers running
	idle        chan struct{} // closed once closed and no handler runs
}

// MakeNetwork returns a reliable network with no ends and no servers.
func MakeNetwork() *Network {
	return &Network{
		faults:      faults{reliable: true},
		rng:         rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		enabled:     make(map[any]bool),
		connections: make(map[any]any),
		servers:     make(map[any]*Server),
		changed:     make(chan struct{}),
		logger:      slog.New(slog.DiscardHandler),
		warned:      make(map[string]bool),
		checked:     make(map[reflect.Type]bool),
		done:        make(chan struct{}),
		idle:        make(chan struct{}),
	}
}

// SetLogger sets where the network reports the warnings it records; nil silences it (the
// default).
func (n *Network) SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.logger = l
}

// Cleanup shuts the network down: every pending and future Call returns false at once, and
// Cleanup returns when no handler it started is still running (or after a grace period, if a
// handler is stuck). Calling it again does nothing.
func (n *Network) Cleanup() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	close(n.done)
	if n.inflight == 0 {
		close(n.idle)
	}
	n.mu.Unlock()

	timer := time.NewTimer(handlerGrace)
	defer timer.Stop()
	select {
	case <-n.idle:
	case <-timer.C:
		n.warn(fmt.Sprintf("labrpc: an RPC handler was still running %v after Cleanup", handlerGrace))
	}
}

// Reliable turns message loss off (true, the default) or on. An unreliable network delays each
// request a little and loses about one request and one reply in ten.
func (n *Network) Reliable(yes bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.faults.reliable = yes
}

// LongReordering makes the network hold about two replies in three back for 200 ms to a few
// seconds, so replies arrive long after newer ones.
func (n *Network) LongReordering(yes bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.faults.longReordering = yes
}

// LongDelays makes a call to a disabled end or a missing server take up to 7 s to fail instead
// of up to 100 ms, as when a real RPC waits for a timeout.
func (n *Network) LongDelays(yes bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.faults.longDelays = yes
}

// MakeEnd returns a new client end called endname, not yet connected and disabled. Names are
// any comparable values; a name that cannot be a map key gives an end whose calls always fail
// and records a warning.
func (n *Network) MakeEnd(endname any) *ClientEnd {
	if !usableName(endname) {
		n.warn(fmt.Sprintf("labrpc: MakeEnd: end name of type %T is not comparable", endname))
		return &ClientEnd{}
	}
	n.mu.Lock()
	_, dup := n.enabled[endname]
	n.enabled[endname] = false
	n.reachabilityChanged()
	n.mu.Unlock()
	if dup {
		n.warn(fmt.Sprintf("labrpc: MakeEnd: end %v made twice", endname))
	}
	return &ClientEnd{name: endname, net: n}
}

// AddServer attaches rs under servername, replacing (and so killing) any server of that name:
// calls in flight to the old one are lost.
func (n *Network) AddServer(servername any, rs *Server) {
	if !usableName(servername) || rs == nil {
		n.warn(fmt.Sprintf("labrpc: AddServer: bad server %v (%T) or nil server", servername, servername))
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.servers[servername] = rs
	n.reachabilityChanged()
}

// DeleteServer removes servername, as if it crashed: calls in flight to it are lost and new ones
// fail.
func (n *Network) DeleteServer(servername any) {
	if !usableName(servername) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.servers, servername)
	n.reachabilityChanged()
}

// Connect routes endname's calls to servername. An end is connected to at most one server.
func (n *Network) Connect(endname, servername any) {
	if !usableName(endname) || !usableName(servername) {
		n.warn(fmt.Sprintf("labrpc: Connect: names %v (%T) and %v (%T) must be comparable",
			endname, endname, servername, servername))
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.connections[endname] = servername
	n.reachabilityChanged()
}

// Enable lets endname send (true) or cuts it off (false). Disabling an end loses the replies of
// its calls in flight, as a partition would.
func (n *Network) Enable(endname any, enabled bool) {
	if !usableName(endname) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.enabled[endname] = enabled
	n.reachabilityChanged()
}

// GetCount returns the number of RPCs delivered to servername (0 if there is no such server).
func (n *Network) GetCount(servername any) int {
	if !usableName(servername) {
		return 0
	}
	n.mu.Lock()
	rs := n.servers[servername]
	n.mu.Unlock()
	if rs == nil {
		return 0
	}
	return rs.GetCount()
}

// GetTotalCount returns the number of RPCs sent through the network, delivered or not.
func (n *Network) GetTotalCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.count
}

// GetTotalBytes returns the bytes of encoded arguments and replies that crossed the network.
// As on a persistent connection, a type's gob description counts only the first few times it
// is sent, so the figure is close to the bytes of the values themselves.
func (n *Network) GetTotalBytes() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.bytes
}

// Warnings returns, in the order first seen, the distinct problems the network noticed: RPC
// types with fields gob drops, replies decoded into non-zero variables, unknown methods, values
// that do not encode. Each is a bug in the caller or the service; a test harness should fail
// when there are any.
func (n *Network) Warnings() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.warnings...)
}

// warn records a distinct warning and logs it.
func (n *Network) warn(msg string) {
	n.mu.Lock()
	first := !n.warned[msg]
	if first {
		n.warned[msg] = true
		n.warnings = append(n.warnings, msg)
	}
	logger := n.logger
	n.mu.Unlock()
	if first {
		logger.Warn(msg)
	}
}

// checkWire warns, once per type, about fields of v's type that gob would drop.
func (n *Network) checkWire(v any) {
	t := reflect.TypeOf(v)
	if t == nil {
		return
	}
	n.mu.Lock()
	seen := n.checked[t]
	n.checked[t] = true
	n.mu.Unlock()
	if seen {
		return
	}
	if err := CheckType(v); err != nil {
		n.warn(err.Error())
	}
}

// reachabilityChanged wakes the calls waiting on a handler so they recheck that their server is
// still reachable. The caller holds n.mu.
func (n *Network) reachabilityChanged() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// route returns the server endname reaches now, or nil. The caller holds n.mu.
func (n *Network) route(endname any) (servername any, rs *Server) {
	if !n.enabled[endname] {
		return nil, nil
	}
	servername, ok := n.connections[endname]
	if !ok {
		return nil, nil
	}
	return servername, n.servers[servername]
}

// sleep waits d, returning false early if the network is cleaned up or ctx is done meanwhile.
func (n *Network) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-n.done:
			return false
		case <-ctx.Done():
			return false
		default:
			return true
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-n.done:
		return false
	case <-ctx.Done():
		return false
	}
}

// usableName reports whether name can be used as a map key without panicking.
func usableName(name any) bool {
	return name == nil || reflect.ValueOf(name).Comparable()
}
