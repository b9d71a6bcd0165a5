package kvstore

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/rpc"
	"strconv"
	"sync"
	"time"

	"ds440/actor"
	"ds440/internal/tcpserve"
)

// RPC types, served under the net/rpc service name "QueryReceiver".
type (
	// GetArgs asks for one key.
	GetArgs struct{ Key string }
	// GetReply is a key's value; Ok is false if the key is absent.
	GetReply struct {
		Value string
		Ok    bool
	}
	// ListArgs asks for every key with a prefix.
	ListArgs struct{ Prefix string }
	// ListReply holds the keys found and their values.
	ListReply struct{ Entries map[string]string }
	// PutArgs sets a key.
	PutArgs struct{ Key, Value string }
	// PutReply is empty: a Put that returns without error has been taken.
	PutReply struct{}
)

// ErrServerClosed is returned by an RPC that was still waiting for its query actor when the
// server closed.
var ErrServerClosed = errors.New("kvstore: server closed")

// ErrTimeout is returned by an RPC whose query actor did not answer in time.
var ErrTimeout = errors.New("kvstore: query actor did not answer in time")

// queryTimeout bounds how long an RPC waits for its actor; actors answer at once, so only an
// overloaded or closing server gets near it.
const queryTimeout = 10 * time.Second

// Server is one kvstore server: an actor system with query actors, each serving RPCs on its own
// port.
type Server struct {
	system  *actor.ActorSystem
	desc    string
	refs    []*actor.ActorRef  // the query actors
	queries []*tcpserve.Server // each query actor's RPC server, in order
	wg      sync.WaitGroup

	done           chan struct{} // closed by Close: stops keepalive
	keepaliveEvery time.Duration // Config.KeepaliveInterval
	putWait        time.Duration // Config.PutTimeout
	closeOnce      sync.Once
}

// Config configures a server made by New. The zero value is one query actor on free TCP ports
// of 127.0.0.1, alone in its cluster, stamping Puts with the wall clock.
type Config struct {
	// System is the actor system to run the query actors on; the server owns it from then on
	// and closes it on Close. Nil: New starts one on Addr over Transport with Faults.
	System *actor.ActorSystem
	// Addr is the "host:port" of the actor system New starts; default "127.0.0.1:0".
	Addr string
	// Faults are the network faults of the actor system New starts (a WAN, in tests).
	Faults actor.Faults
	// Transport carries the query RPCs, and the actor messages of the system New starts; it
	// must be the transport of System if System is set. Default actor.TCPTransport.
	Transport actor.Transport
	// QueryActors is the number of query actors; default 1.
	QueryActors int
	// QueryPort is the port of the first query actor's RPC server, the others following it;
	// 0 picks free ports. The query actors listen on the actor system's host.
	QueryPort int
	// Remotes are the descs of servers already running, to join.
	Remotes []string
	// Clock stamps Puts and paces syncs; default time.Now. Tests inject one to order Puts
	// without waiting for the next millisecond.
	Clock func() time.Time
	// DropAfter is how long another server may acknowledge no batch of Puts before this one
	// drops it from its cluster and forgets the Puts it owed it; a dropped server is greeted
	// every few seconds and gets every Put when it answers. Default DefaultDropAfter.
	DropAfter time.Duration
	// KeepaliveInterval is how often the server's first query actor sends every other
	// server its replica's digest, so replicas that differ (a Put whose writer died before
	// every server had it) find out and exchange what they lack, and a server restarted
	// without descs learns of the cluster. Shorter heals faster and costs one small message
	// per pair of servers per interval. Default 500 ms.
	KeepaliveInterval time.Duration
	// PeerAcks is how many other servers must hold a Put before it is acknowledged. 0, the
	// default, answers a Put at once from the replica of the actor that took it (the
	// contract's behaviour): fast, but a Put acknowledged less than a sync interval before
	// its server is killed dies with it. 1 or more makes a Put wait until that many other
	// servers acknowledged a sync holding it (a round trip plus up to two sync intervals),
	// so it survives the death of its server; a Put that is not held by enough of them
	// within PutTimeout (the others are down, unreachable, or fewer than PeerAcks, a lone
	// server included) returns ErrNotReplicated, with an unknown outcome.
	PeerAcks int
	// PutTimeout is how long a Put waits for PeerAcks other servers; default
	// DefaultPutTimeout.
	PutTimeout time.Duration
	// Logger gets a line when another server's actor system stops answering and when it
	// answers again (the Logger of the actor system New starts; a System brings its own).
	// Default silent.
	Logger *slog.Logger
	// OnError gets what the server cannot return to anyone, one at a time: a remote server
	// unreachable (ErrUnreachable, actor.ErrRemoteUnreachable), dropped (ErrServerDropped),
	// and the actor system's other errors. Default: dropped.
	OnError func(error)
}

func parseDescs(descs []string) ([]serverDesc, error) {
	var out []serverDesc
	for _, s := range descs {
		d, err := parseDesc(s)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// New starts a server configured by cfg.
func New(cfg Config) (*Server, error) {
	if cfg.QueryActors == 0 {
		cfg.QueryActors = 1
	}
	if cfg.Transport == nil {
		cfg.Transport = actor.TCPTransport{}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.KeepaliveInterval <= 0 {
		cfg.KeepaliveInterval = keepaliveInterval
	}
	if cfg.DropAfter <= 0 {
		cfg.DropAfter = DefaultDropAfter
	}
	if cfg.PutTimeout <= 0 {
		cfg.PutTimeout = DefaultPutTimeout
	}
	system := cfg.System
	closeSystem := func() {
		if system != nil {
			system.Close()
		}
	}
	if cfg.QueryActors < 1 {
		closeSystem()
		return nil, fmt.Errorf("kvstore: need at least one query actor, got %d", cfg.QueryActors)
	}
	if cfg.PeerAcks < 0 {
		closeSystem()
		return nil, fmt.Errorf("kvstore: PeerAcks %d is negative", cfg.PeerAcks)
	}
	if cfg.QueryPort < 0 || cfg.QueryPort+cfg.QueryActors > 65536 {
		closeSystem()
		return nil, fmt.Errorf("kvstore: query ports %d..%d out of range", cfg.QueryPort, cfg.QueryPort+cfg.QueryActors-1)
	}
	remotes, err := parseDescs(cfg.Remotes)
	if err != nil {
		closeSystem()
		return nil, err
	}
	if system == nil {
		system, err = actor.New(actor.Config{Addr: cfg.Addr, Transport: cfg.Transport, Faults: cfg.Faults, Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("kvstore: %w", err)
		}
	}
	if cfg.OnError != nil {
		system.OnError(cfg.OnError)
	}
	s := &Server{system: system, done: make(chan struct{}), keepaliveEvery: cfg.KeepaliveInterval, putWait: cfg.PutTimeout}
	self := serverDesc{Addr: system.Addr()}
	// Query actors listen where the actor system does, never on every interface.
	host, _, _ := net.SplitHostPort(system.Addr())
	refs := make([]*actor.ActorRef, cfg.QueryActors)
	for i := range refs {
		refs[i] = system.StartActor(func(ctx *actor.ActorContext) actor.Actor { return newQueryActor(ctx, &cfg) })
		self.Counters = append(self.Counters, refs[i].Counter)
	}
	for i, ref := range refs {
		system.Tell(ref, configMsg{Self: self, Index: i, Remotes: remotes, Join: i == 0})
	}
	for i, ref := range refs {
		port := 0
		if cfg.QueryPort != 0 {
			port = cfg.QueryPort + i
		}
		ln, err := cfg.Transport.Listen(net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("kvstore: query actor %d: %w", i+1, err)
		}
		rs := rpc.NewServer()
		if err := rs.RegisterName("QueryReceiver", &queryReceiver{system: system, actor: ref, putWait: cfg.PutTimeout}); err != nil {
			ln.Close()
			s.Close()
			return nil, fmt.Errorf("kvstore: %w", err)
		}
		s.queries = append(s.queries, tcpserve.Start(ln, func(c net.Conn) { rs.ServeConn(c) }, nil))
	}
	s.desc, s.refs = self.String(), refs
	s.wg.Go(s.keepalive)
	return s, nil
}

// Desc describes this server to servers started later (Config.Remotes, NewServer's remoteDescs).
func (s *Server) Desc() string { return s.desc }

// idle reports whether every query actor of the server has nothing left to send (node.idle).
// Tests wait for every server of a cluster to be idle where the sync of past writes must be
// over: sync is periodic, so there is no one event for "nothing left".
func (s *Server) idle() bool {
	for _, ref := range s.refs {
		reply, answer := s.system.NewChannelRef()
		s.system.Tell(ref, idleMsg{Reply: reply})
		if idle, ok := (<-answer).(bool); !ok || !idle {
			return false
		}
	}
	return true
}

// QueryAddrs returns the "host:port" of each query actor's RPC server, in order.
func (s *Server) QueryAddrs() []string {
	addrs := make([]string, len(s.queries))
	for i, q := range s.queries {
		addrs[i] = q.Addr().String()
	}
	return addrs
}

// ActorSystem returns the server's actor system, for Stats in tests and monitoring.
func (s *Server) ActorSystem() *actor.ActorSystem { return s.system }

// Close stops the RPC servers and the actor system. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		for _, q := range s.queries {
			q.Close()
		}
		s.wg.Wait()
		s.system.Close()
	})
}

// keepalive has the first query actor send every other server its digest every
// Config.KeepaliveInterval, until Close. A server restarted on its address without descs learns of
// the cluster from it and asks for the state, also when no one writes.
func (s *Server) keepalive() {
	t := time.NewTicker(s.keepaliveEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.system.Tell(s.refs[0], keepaliveMsg{})
		case <-s.done:
			return
		}
	}
}

// queryReceiver is the RPC face of one query actor, served under the net/rpc name
// "QueryReceiver". It keeps no state: each call tells the
// actor and waits for its answer on a channel ref.
type queryReceiver struct {
	system  *actor.ActorSystem
	actor   *actor.ActorRef
	putWait time.Duration // Config.PutTimeout: a Put may wait that long for its peers
}

// ask tells the actor the message built for a fresh reply ref and waits for the answer, at
// most queryTimeout beyond wait.
func (q *queryReceiver) ask(wait time.Duration, build func(reply *actor.ActorRef) any) (any, error) {
	ref, answer := q.system.NewChannelRef()
	q.system.Tell(q.actor, build(ref))
	t := time.NewTimer(wait + queryTimeout)
	defer t.Stop()
	select {
	case m, ok := <-answer:
		if !ok {
			return nil, ErrServerClosed
		}
		return m, nil
	case <-t.C:
		return nil, ErrTimeout
	}
}

// Get answers a GetArgs.
func (q *queryReceiver) Get(args *GetArgs, reply *GetReply) error {
	m, err := q.ask(0, func(r *actor.ActorRef) any { return getMsg{Key: args.Key, Reply: r} })
	if err != nil {
		return err
	}
	res, ok := m.(getResult)
	if !ok {
		return fmt.Errorf("kvstore: unexpected answer %T", m)
	}
	reply.Value, reply.Ok = res.Value, res.Ok
	return nil
}

// List answers a ListArgs; Entries is never nil.
func (q *queryReceiver) List(args *ListArgs, reply *ListReply) error {
	m, err := q.ask(0, func(r *actor.ActorRef) any { return listMsg{Prefix: args.Prefix, Reply: r} })
	if err != nil {
		return err
	}
	res, ok := m.(listResult)
	if !ok {
		return fmt.Errorf("kvstore: unexpected answer %T", m)
	}
	reply.Entries = res.Entries
	if reply.Entries == nil {
		reply.Entries = map[string]string{}
	}
	return nil
}

// Put answers a PutArgs once the actor has taken the write (and Config.PeerAcks other servers
// hold it).
func (q *queryReceiver) Put(args *PutArgs, reply *PutReply) error {
	_, err := q.put(args)
	return err
}

// put has the actor take a Put and returns its stamp once it is acknowledged.
func (q *queryReceiver) put(args *PutArgs) (Stamp, error) {
	m, err := q.ask(q.putWait, func(r *actor.ActorRef) any { return putMsg{Key: args.Key, Value: args.Value, Reply: r} })
	if err != nil {
		return Stamp{}, err
	}
	switch res := m.(type) {
	case putResult:
		return res.Stamp, nil
	case putNotReplicated:
		return Stamp{}, fmt.Errorf("%w: %d other servers acknowledged it within %v", ErrNotReplicated, res.Holders, q.putWait)
	default:
		return Stamp{}, fmt.Errorf("kvstore: unexpected answer %T", m)
	}
}
