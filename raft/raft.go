package raft

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"sync"
	"time"
)

// Errors of a Raft server.
var (
	// ErrKilled is returned by the TCP transport's handlers once the Raft has been killed or
	// has stopped.
	ErrKilled = errors.New("raft: killed")
	// ErrStorageFailed wraps the Storage error that stopped a server (Err reports it): it
	// stops rather than answer for state that may not be durable.
	ErrStorageFailed = errors.New("raft: storage failed")
)

// Defaults for Config; at most 1/HeartbeatInterval heartbeats per second go to each peer.
const (
	DefaultTick              = 10 * time.Millisecond
	DefaultHeartbeatInterval = 100 * time.Millisecond
	DefaultElectionTimeout   = 300 * time.Millisecond
	DefaultMaxBatch          = 4096
)

// Config describes one Raft server for New. Peers, ApplyCh and one of Storage and Persister are
// required.
type Config struct {
	Peers   []Peer // Peers[Me] is this server itself and is never called
	Me      int
	Storage Storage
	// Persister is used when Storage is nil: through its Storage methods if it has them (as
	// MemoryPersister and FilePersister do), else through its Save, with the whole state each
	// time.
	Persister Persister
	ApplyCh   chan<- ApplyMsg

	// ElectionTimeout is the minimum; each timeout is random in [ElectionTimeout, 2*ElectionTimeout).
	ElectionTimeout   time.Duration
	HeartbeatInterval time.Duration
	Tick              time.Duration // clock resolution of the timers
	MaxBatch          int           // entries per AppendEntries
	Logger            *slog.Logger  // nil: silent
}

// Raft is one server of a Raft cluster: the deterministic core behind a mutex and a fixed set
// of goroutines around it that Kill waits for: a clock, a pool of senders per peer and an
// applier. Whoever steps the core (the clock, a sender with a reply, an RPC handler, Start or
// Snapshot) then carries out the core's ready while still holding the mutex: save the state,
// queue the messages for the senders, queue the committed entries for delivery. The applier
// delivers them, or the sender whose reply committed them, if no one else is delivering.
type Raft struct {
	mu      sync.Mutex
	c       *core
	peers   []Peer
	me      int
	storage Storage
	applyCh chan<- ApplyMsg
	log     *slog.Logger

	senders   []*sender     // per peer; nil at me
	applyQ    []ApplyMsg    // guarded by mu: committed, to be delivered in order
	applying  bool          // guarded by mu: a goroutine has claimed the delivery of applyQ
	kick      chan struct{} // Start asks the clock to replicate; capacity 1 so Starts coalesce
	applyKick chan struct{} // applyQ has grown; capacity 1
	done      chan struct{} // closed by Kill or by a persistence failure
	cancel    context.CancelFunc
	ctx       context.Context // done with done: ends the senders' calls
	stopOnce  sync.Once
	wg        sync.WaitGroup // the clock, the senders and the applier
	stopped   bool           // guarded by mu: no more state changes, sends or replies
	failure   error

	lastRole Role
	lastTerm int
}

var discard = slog.New(slog.DiscardHandler)

// New starts a Raft server as described by cfg and returns at once.
func New(cfg Config) (*Raft, error) {
	switch {
	case len(cfg.Peers) == 0:
		return nil, errors.New("raft: no peers")
	case cfg.Me < 0 || cfg.Me >= len(cfg.Peers):
		return nil, fmt.Errorf("raft: me=%d outside [0, %d)", cfg.Me, len(cfg.Peers))
	case cfg.Storage == nil && cfg.Persister == nil:
		return nil, errors.New("raft: no storage")
	case cfg.ApplyCh == nil:
		return nil, errors.New("raft: nil apply channel")
	case cfg.ElectionTimeout < 0 || cfg.HeartbeatInterval < 0 || cfg.Tick < 0 || cfg.MaxBatch < 0:
		return nil, errors.New("raft: negative timing or batch size")
	}
	if cfg.Tick == 0 {
		cfg.Tick = DefaultTick
	}
	if cfg.ElectionTimeout == 0 {
		cfg.ElectionTimeout = DefaultElectionTimeout
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.HeartbeatInterval >= cfg.ElectionTimeout {
		return nil, errors.New("raft: heartbeat interval must be shorter than the election timeout")
	}
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	c := newCore(coreConfig{
		me:             cfg.Me,
		peers:          len(cfg.Peers),
		electionTicks:  max(1, int(cfg.ElectionTimeout/cfg.Tick)),
		heartbeatTicks: max(1, int(cfg.HeartbeatInterval/cfg.Tick)),
		maxBatch:       cfg.MaxBatch,
		rng:            rand.New(rand.NewPCG(rand.Uint64(), uint64(cfg.Me))),
	})
	storage := cfg.Storage
	if storage == nil {
		storage = storageOf(cfg.Persister)
	}
	saved, err := storage.Load()
	if err != nil {
		return nil, fmt.Errorf("raft: loading the saved state: %w", err)
	}
	c.restore(saved)
	rf := &Raft{
		c:         c,
		peers:     cfg.Peers,
		me:        cfg.Me,
		storage:   storage,
		applyCh:   cfg.ApplyCh,
		log:       cfg.Logger.With("raft", cfg.Me),
		senders:   make([]*sender, len(cfg.Peers)),
		kick:      make(chan struct{}, 1),
		applyKick: make(chan struct{}, 1),
		done:      make(chan struct{}),
		lastTerm:  c.term,
	}
	rf.ctx, rf.cancel = context.WithCancel(context.Background())
	for p, peer := range cfg.Peers {
		if p == cfg.Me {
			continue
		}
		s := newSender(peer)
		rf.senders[p] = s
		for range sendersPerPeer {
			rf.wg.Add(1)
			go rf.sendLoop(s.newCaller(rf.ctx))
		}
	}
	rf.wg.Add(2)
	go rf.run(cfg.Tick)
	go rf.applier()
	return rf, nil
}

// run is the clock: it ticks the core, and it turns Start's kicks into one batched
// replication round.
func (rf *Raft) run(tick time.Duration) {
	defer rf.wg.Done()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-rf.done:
			return
		case <-ticker.C:
			rf.mu.Lock()
			if !rf.stopped {
				rf.c.tick()
				rf.flushLocked()
			}
			rf.mu.Unlock()
		case <-rf.kick:
			rf.mu.Lock()
			if !rf.stopped {
				rf.flushLocked()
			}
			rf.mu.Unlock()
		}
	}
}

// flushLocked carries out what the core asks for after a step, ready by ready: store, then
// queue the messages (a leader's may go first: ready.sendFirst), then queue the committed
// entries. Storing first is what lets every message and reply stand for durable state. It reports false if the store failed, which stops
// the server (fail-stop: it can no longer promise what it replies).
func (rf *Raft) flushLocked() bool {
	for {
		rd, ok := rf.c.ready()
		if !ok {
			break
		}
		if rd.sendFirst {
			rf.dispatchAllLocked(rd.messages)
		}
		if rd.update != nil {
			if err := rf.storage.Store(*rd.update); err != nil {
				rf.failLocked(err)
				return false
			}
			rf.c.advance(rd)
		}
		if !rd.sendFirst {
			rf.dispatchAllLocked(rd.messages)
		}
		if len(rd.committed) > 0 {
			if len(rf.applyQ) == 0 {
				rf.applyQ = rd.committed // the usual case: no copy
			} else {
				rf.applyQ = append(rf.applyQ, rd.committed...)
			}
			if !rf.applying {
				select {
				case rf.applyKick <- struct{}{}:
				default:
				}
			}
		}
	}
	if c := rf.c; c.role != rf.lastRole || c.term != rf.lastTerm {
		rf.log.Info("raft: role", "role", c.role, "term", c.term, "leader", c.leader)
		rf.lastRole, rf.lastTerm = c.role, c.term
	}
	return true
}

func (rf *Raft) failLocked(err error) {
	rf.log.Error("raft: stopping: cannot persist", "err", err)
	err = fmt.Errorf("%w: %w", ErrStorageFailed, err)
	rf.stopped = true
	rf.failure = err
	rf.stop()
}

// stop closes done and ends the senders' calls in flight, once.
func (rf *Raft) stop() {
	rf.stopOnce.Do(func() {
		close(rf.done)
		rf.cancel()
	})
}

func (rf *Raft) dispatchAllLocked(ms []message) {
	for _, m := range ms {
		rf.dispatchLocked(m)
	}
}

// dispatchLocked queues m for its peer's senders. If they are all busy and the queue is full,
// the peer is slow or unreachable: the oldest queued message counts as lost (the core retries
// at the next heartbeat) and the oldest call in flight is abandoned, so the newest messages go
// out first once the peer answers again.
func (rf *Raft) dispatchLocked(m message) {
	s := rf.senders[m.to]
	select {
	case s.queue <- m:
		return
	default:
	}
	select {
	case old := <-s.queue:
		rf.c.onUnreachable(old)
	default:
	}
	s.abandonOldest()
	select {
	case s.queue <- m:
	default:
		rf.c.onUnreachable(m)
	}
}

// sendLoop is one of a peer's senders: it makes the queued calls one at a time and steps the
// core with each outcome.
func (rf *Raft) sendLoop(w *caller) {
	defer rf.wg.Done()
	for {
		select {
		case <-rf.done:
			return
		case m := <-w.s.queue:
			ok, reply := w.call(m)
			rf.mu.Lock()
			claimed := false
			if !rf.stopped {
				rf.c.onReply(m, ok, reply)
				// A reply that commits usually finds no one delivering: this sender then
				// delivers itself, and claims it before flushing so that the applier is not
				// woken, sparing a wake-up on the commit path.
				if !rf.applying && rf.c.hasApply() {
					rf.applying, claimed = true, true
				}
				rf.flushLocked()
			}
			rf.mu.Unlock()
			if claimed {
				rf.deliverClaimed()
			}
		}
	}
}

// applier delivers what flushLocked queued on applyCh when woken, unless a sender already is.
func (rf *Raft) applier() {
	defer rf.wg.Done()
	for {
		select {
		case <-rf.done:
			return
		case <-rf.applyKick:
		}
		rf.mu.Lock()
		claimed := !rf.stopped && rf.claimApplyLocked()
		rf.mu.Unlock()
		if claimed {
			rf.deliverClaimed()
		}
	}
}

// claimApplyLocked makes the caller the one goroutine delivering on applyCh, if there is
// something to deliver and no one else is; only the claimant delivers, so order holds.
func (rf *Raft) claimApplyLocked() bool {
	if rf.applying || len(rf.applyQ) == 0 {
		return false
	}
	rf.applying = true
	return true
}

// deliverClaimed delivers the apply queue on applyCh, and whatever joins it meanwhile, then
// gives the claim up. It never holds the mutex while it waits for the service, which may call
// Snapshot or Start meanwhile.
func (rf *Raft) deliverClaimed() {
	for {
		rf.mu.Lock()
		msgs := rf.applyQ
		if len(msgs) == 0 || rf.stopped {
			rf.applying = false
			rf.mu.Unlock()
			return
		}
		rf.applyQ = nil
		rf.mu.Unlock()
		for _, m := range msgs {
			select {
			case rf.applyCh <- m:
			case <-rf.done:
				return // stopped: no one delivers any more, so the claim need not be given up
			}
		}
	}
}

// GetState returns the current term and whether this server believes it is the leader.
func (rf *Raft) GetState() (term int, isLeader bool) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.c.term, rf.c.role == Leader && !rf.stopped
}

// Start asks the leader to append command to the log and returns at once: the index it will
// have if it commits, the current term, and whether this server is the leader. There is no
// promise the command commits; the service watches applyCh. A command gob cannot encode (an
// unregistered type) is refused with isLeader false and an error logged.
func (rf *Raft) Start(command any) (index int, term int, isLeader bool) {
	if err := checkCommand(command); err != nil {
		rf.log.Error("raft: Start refused", "err", err)
		rf.mu.Lock()
		defer rf.mu.Unlock()
		return 0, rf.c.term, false
	}
	rf.mu.Lock()
	if rf.stopped {
		defer rf.mu.Unlock()
		return 0, rf.c.term, false
	}
	index, term, isLeader = rf.c.propose(command)
	rf.mu.Unlock()
	if isLeader {
		select {
		case rf.kick <- struct{}{}:
		default:
		}
	}
	return index, term, isLeader
}

var commandTypes sync.Map // reflect.Type -> error (nil wrapped in commandCheck)

type commandCheck struct{ err error }

// checkCommand makes sure gob can encode a command of this type inside an Entry, once per type.
func checkCommand(cmd any) error {
	switch cmd.(type) {
	case nil, int, string, []byte:
		return nil // encoded without gob
	}
	t := reflect.TypeOf(cmd)
	if v, ok := commandTypes.Load(t); ok {
		return v.(commandCheck).err
	}
	_, err := encodeCommand(cmd)
	if err == nil {
		// The command also travels inside RPCs as an Entry; check that shape too.
		if e := gob.NewEncoder(io.Discard).Encode(&Entry{Command: cmd}); e != nil {
			err = fmt.Errorf("raft: command of type %v cannot be encoded: %w (gob.Register it)", t, e)
		}
	}
	commandTypes.Store(t, commandCheck{err})
	return err
}

// Snapshot tells Raft the service has applied everything through index and saved it in
// snapshot, so the log up to index can be discarded. Raft keeps its own copy of snapshot.
func (rf *Raft) Snapshot(index int, snapshot []byte) {
	data := clone(snapshot)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.stopped || !rf.c.compact(index, data) {
		return
	}
	rf.flushLocked()
}

// Kill stops the server. It returns once every goroutine of the server has exited, so nothing
// is delivered or sent after it. Calls in flight end at once on a Peer with CallContext;
// otherwise Kill waits for them, which the Peer bounds. Kill is idempotent.
func (rf *Raft) Kill() {
	rf.mu.Lock()
	rf.stopped = true
	rf.mu.Unlock()
	rf.stop()
	rf.wg.Wait()
}

// Killed reports whether Kill was called or the server stopped on a persistence failure.
func (rf *Raft) Killed() bool {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.stopped
}

// Err returns the error that stopped the server (a persistence failure), or nil.
func (rf *Raft) Err() error {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.failure
}

// Status is a snapshot of a server's state for monitoring and tests.
type Status struct {
	Me            int
	Term          int
	Role          Role
	Leader        int // -1 if unknown
	CommitIndex   int
	LastApplied   int // last index handed to the applier
	SnapshotIndex int
	LastIndex     int
	Killed        bool
}

// Status returns the server's current state.
func (rf *Raft) Status() Status {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	c := rf.c
	return Status{
		Me: rf.me, Term: c.term, Role: c.role, Leader: c.leader,
		CommitIndex: c.commit, LastApplied: c.applied,
		SnapshotIndex: c.log.snapIndex(), LastIndex: c.log.lastIndex(),
		Killed: rf.stopped,
	}
}

// RequestVote is the RequestVote RPC handler.
func (rf *Raft) RequestVote(args *RequestVoteArgs, reply *RequestVoteReply) {
	_ = rf.requestVote(args, reply)
}

// AppendEntries is the AppendEntries RPC handler.
func (rf *Raft) AppendEntries(args *AppendEntriesArgs, reply *AppendEntriesReply) {
	_ = rf.appendEntries(args, reply)
}

// InstallSnapshot is the InstallSnapshot RPC handler.
func (rf *Raft) InstallSnapshot(args *InstallSnapshotArgs, reply *InstallSnapshotReply) {
	_ = rf.installSnapshot(args, reply)
}

func (rf *Raft) requestVote(args *RequestVoteArgs, reply *RequestVoteReply) error {
	return handle(rf, (*core).handleRequestVote, args, reply)
}

func (rf *Raft) appendEntries(args *AppendEntriesArgs, reply *AppendEntriesReply) error {
	return handle(rf, (*core).handleAppendEntries, args, reply)
}

func (rf *Raft) installSnapshot(args *InstallSnapshotArgs, reply *InstallSnapshotReply) error {
	return handle(rf, (*core).handleInstallSnapshot, args, reply)
}

// rpcArgs is an RPC request that can check itself (messages.go).
type rpcArgs interface{ validate(peers, me int) error }

// handle steps the core on an incoming RPC and persists before the reply may leave. Invalid
// arguments get ErrInvalidRPC; a stopped server, or one that fails to persist, ErrKilled. Either
// way reply is left untouched and must not be sent.
func handle[A rpcArgs, R any](rf *Raft, step func(*core, A) R, args A, reply *R) error {
	if err := args.validate(len(rf.peers), rf.me); err != nil {
		return err
	}
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.stopped {
		return ErrKilled
	}
	r := step(rf.c, args)
	if !rf.flushLocked() {
		return ErrKilled
	}
	*reply = r
	return nil
}
