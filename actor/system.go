package actor

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/rpc"
	"sync"
	"sync/atomic"
	"time"

	"ds440/internal/tcpserve"
)

// ActorSystem runs actors and carries their messages, locally and to other systems over
// net/rpc. All its methods are safe for concurrent use.
type ActorSystem struct {
	addr      string
	server    *tcpserve.Server // serves rpcServer to other systems
	rpcServer *rpc.Server

	// targets maps a counter to its *actorCell (positive) or *channelRef (negative).
	targets     sync.Map
	nextActor   atomic.Int64
	nextChannel atomic.Int64

	remotes   sync.Map // "host:port" -> *remoteSender
	links     sync.Map // "host:port" -> Faults set with SetLinkFaults
	transport Transport
	faults    func() Faults // of every link without its own

	stats  counters
	errs   *Mailbox // reported errors, handed to the handler by one goroutine, in order
	onErr  atomic.Pointer[func(error)]
	logger *slog.Logger

	isClosed atomic.Bool     // fast check for the hot paths
	done     chan struct{}   // closed by Close: every goroutine of the system watches it
	ctx      context.Context // cancelled by Close, for dials
	cancel   context.CancelFunc

	mu       sync.Mutex // guards the fields below and the decision to start goroutines
	closed   bool
	contexts []*ActorContext
	timers   map[*time.Timer]struct{}
	chanRefs map[*channelRef]struct{}
	wg       sync.WaitGroup
}

// Config configures a system made by New. The zero value is a TCP system on a free port of
// 127.0.0.1, with no faults and no logging.
type Config struct {
	// Addr is the "host:port" to serve remote tells on; other systems dial this host, so it
	// must be reachable from them. Port 0 picks a free port (see ActorSystem.Addr). Default
	// "127.0.0.1:0".
	Addr string
	// Transport carries remote tells; default TCPTransport. Systems on one InmemNetwork talk
	// without sockets.
	Transport Transport
	// Faults are added to every remote tell of this system (see SetLinkFaults for one link).
	Faults Faults
	// Logger gets a line when a remote system goes down and when it comes back; default
	// silent.
	Logger *slog.Logger
}

// New starts a system configured by cfg. Its faults are its own (Config.Faults,
// SetLinkFaults): SetArtificialLatency, the contract's process-wide knob, does not touch it.
func New(cfg Config) (*ActorSystem, error) {
	f := cfg.Faults
	return start(cfg, func() Faults { return f })
}

// start starts a system whose remote tells take the faults that faults returns when they are
// told.
func start(cfg Config, faults func() Faults) (*ActorSystem, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Transport == nil {
		cfg.Transport = TCPTransport{}
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadAddress, err)
	}
	ln, err := cfg.Transport.Listen(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadAddress, err)
	}
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("%w: listener address %q: %v", ErrBadAddress, ln.Addr(), err)
	}
	s := &ActorSystem{
		addr:      net.JoinHostPort(host, port),
		rpcServer: rpc.NewServer(),
		transport: cfg.Transport,
		faults:    faults,
		errs:      NewMailbox(),
		done:      make(chan struct{}),
		timers:    make(map[*time.Timer]struct{}),
		chanRefs:  make(map[*channelRef]struct{}),
	}
	if err := s.rpcServer.RegisterName(rpcService, &receiver{sys: s}); err != nil {
		ln.Close()
		return nil, fmt.Errorf("actor: registering the rpc receiver: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.logger = cfg.Logger
	s.server = tcpserve.Start(ln, s.serveConn, s.logger)
	s.wg.Go(s.reportLoop)
	return s, nil
}

// Addr returns the "host:port" of this system, the Address of its actors' refs.
func (s *ActorSystem) Addr() string { return s.addr }

// OnError sets the handler for errors the system cannot return to anyone: OnMessage errors
// and panics, messages that cannot be encoded or have no receiver, unreachable remote
// systems. The handler runs on one goroutine of the system, one error at a time and in order,
// so a slow handler delays later reports but never an actor. Without a handler errors are
// dropped.
func (s *ActorSystem) OnError(handler func(error)) {
	if handler == nil {
		s.onErr.Store(nil)
		return
	}
	s.onErr.Store(&handler)
}

func (s *ActorSystem) log() *slog.Logger { return s.logger }

func (s *ActorSystem) report(err error) {
	s.errs.Push(err)
}

func (s *ActorSystem) reportLoop() {
	for {
		err, ok := s.errs.Pop()
		if !ok {
			return
		}
		if h := s.onErr.Load(); h != nil {
			(*h)(err.(error))
		}
	}
}

// StartActor creates an actor with newActor, passing it the actor's context, and starts it.
// Messages told to the actor while newActor runs (say, a first timer) are kept for it. Each
// actor has its own goroutine, so OnMessage calls of one actor never overlap.
func (s *ActorSystem) StartActor(newActor func(*ActorContext) Actor) *ActorRef {
	self := ActorRef{Address: s.addr, Counter: int(s.nextActor.Add(1))}
	ctx := &ActorContext{Self: &self, sys: s, rates: sendCounts{start: time.Now()}}
	cell := &actorCell{ctx: ctx, mailbox: NewMailbox()}
	s.targets.Store(self.Counter, cell)
	defer func() {
		if cell.actor == nil { // newActor returned nil or panicked: no one will read the mailbox
			s.targets.Delete(self.Counter)
			cell.mailbox.Close()
		}
	}()
	cell.actor = newActor(ctx)
	if cell.actor == nil {
		s.report(fmt.Errorf("actor: StartActor: constructor of %s returned nil", self.Uid()))
		return &self
	}
	ref := self // the caller's copy: changing it does not rename the actor
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		cell.mailbox.Close()
		return &ref
	}
	s.contexts = append(s.contexts, ctx)
	s.wg.Go(cell.run)
	return &ref
}

// Tell sends message to ref from outside any actor. Like ActorContext.Tell it never blocks.
func (s *ActorSystem) Tell(ref *ActorRef, message any) {
	s.tell(nil, ref, message)
}

// TellAfter sends message to ref after d, from outside any actor; it is counted now.
func (s *ActorSystem) TellAfter(ref *ActorRef, message any, d time.Duration) {
	s.tellAfter(nil, ref, message, d)
}

// IsLocal reports whether ref lives in this system.
func (s *ActorSystem) IsLocal(ref *ActorRef) bool {
	return ref != nil && ref.Address == s.addr
}

// Stats returns the system's counters now.
func (s *ActorSystem) Stats() Stats {
	st := s.stats.snapshot()
	s.mu.Lock()
	contexts := s.contexts
	s.mu.Unlock()
	now := time.Now()
	for _, c := range contexts {
		st.MaxMessageRate = max(st.MaxMessageRate, c.rates.maxRate(now))
	}
	return st
}

// Close stops the system: the listener, every connection, timer and remote sender, and every
// actor after its current OnMessage returns. Queued messages are dropped, waiting channel refs
// are closed, and later tells are ignored. Close waits for every goroutine of the system, so it
// must not be called from OnMessage or the error handler. It is idempotent.
func (s *ActorSystem) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return
	}
	s.closed = true
	s.isClosed.Store(true)
	close(s.done)
	s.cancel()
	for t := range s.timers {
		t.Stop()
	}
	clear(s.timers)
	for r := range s.chanRefs {
		r.close()
	}
	clear(s.chanRefs)
	s.mu.Unlock()
	s.server.Close() // waits for the connections' handlers, which may take s.mu

	s.targets.Range(func(_, v any) bool {
		if cell, ok := v.(*actorCell); ok {
			cell.mailbox.Close()
		}
		return true
	})
	s.errs.Close()
	s.wg.Wait()
}

// prepare copies and counts a message about to be sent; ok is false if it must be dropped.
func (s *ActorSystem) prepare(from *ActorContext, ref *ActorRef, message any) (copied any, size int, ok bool) {
	if s.isClosed.Load() {
		return nil, 0, false
	}
	if ref == nil {
		s.report(fmt.Errorf("%w: message %T", ErrNilRef, message))
		return nil, 0, false
	}
	copied, size, err := copyMessage(message)
	if err != nil {
		s.report(fmt.Errorf("message to %s: %w", ref.Uid(), err))
		return nil, 0, false
	}
	s.stats.countSend(from != nil, size)
	if from != nil {
		from.rates.count(*ref)
	}
	return copied, size, true
}

func (s *ActorSystem) tell(from *ActorContext, ref *ActorRef, message any) {
	if copied, size, ok := s.prepare(from, ref, message); ok {
		s.route(*ref, copied, size)
	}
}

func (s *ActorSystem) tellAfter(from *ActorContext, ref *ActorRef, message any, d time.Duration) {
	copied, size, ok := s.prepare(from, ref, message)
	if !ok {
		return
	}
	to := *ref
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		delete(s.timers, t)
		s.mu.Unlock()
		s.route(to, copied, size)
	})
	s.timers[t] = struct{}{}
}

// route hands a copied message to its local receiver or to the sender for its remote system.
func (s *ActorSystem) route(to ActorRef, message any, size int) {
	if to.Address == s.addr {
		if err := s.deliver(to.Counter, message); err != nil {
			s.report(fmt.Errorf("message %T to %s: %w", message, to.Uid(), err))
		}
		return
	}
	if r := s.remote(to.Address); r != nil {
		r.enqueue(to.Counter, message, size)
	}
}

// deliver puts a message into the mailbox or channel of a local counter.
func (s *ActorSystem) deliver(counter int, message any) error {
	t, ok := s.targets.Load(counter)
	if !ok {
		if counter < 0 {
			return ErrChannelRefUsed
		}
		return ErrNoSuchActor
	}
	switch t := t.(type) {
	case *actorCell:
		t.mailbox.Push(message)
	case *channelRef:
		used := func() {
			s.targets.Delete(counter)
			s.stats.channelRefsUsed.Add(1)
		}
		if !t.deliver(message, used) {
			return ErrChannelRefUsed
		}
		s.mu.Lock() // not inside deliver: Close takes s.mu, then the ref's lock
		delete(s.chanRefs, t)
		s.mu.Unlock()
	}
	return nil
}
