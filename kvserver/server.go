package kvserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"

	"ds440/internal/tcpserve"
)

// KeyValueServer serves a KVStore to many TCP clients at once.
type KeyValueServer interface {
	Start(port int) error // listens on port (0 = a free one) and returns at once; error if it cannot
	Addr() net.Addr       // the listening address once started
	CountActive() int     // clients connected now
	CountDropped() int    // clients that have disconnected or were dropped since Start
	Close()               // stops listening, closes every client, returns when all goroutines are gone
}

// Errors returned by Start.
var (
	ErrStarted = errors.New("kvserver: already started")
	ErrClosed  = errors.New("kvserver: closed")
)

// Config holds the optional settings of a Server. The zero value is ready to use.
type Config struct {
	// Host is the address to listen on; empty means 127.0.0.1, because the protocol has no
	// authentication. Use "0.0.0.0" or "::" to serve other machines.
	Host string
	// Logger receives connection events at Debug level and accept errors at Warn level; nil
	// discards them.
	Logger *slog.Logger
	// OutputSoftLimit bounds the bytes of replies waiting for one client, as Redis's
	// client-output-buffer-limit does, so that clients that send faster than they read cannot
	// exhaust memory. Once a client's unsent replies reach it, the server stops executing (and
	// so reading) that RESP client's requests until it reads some, and discards further text
	// replies as when the 500-line queue is full. Zero means DefaultOutputSoftLimit; negative,
	// no limit.
	OutputSoftLimit int
	// OutputHardLimit drops a client whose unsent replies exceed it, which only a single reply
	// larger than the soft limit can cause (a GET of a huge value to a client not reading).
	// Zero means DefaultOutputHardLimit; negative, no limit.
	OutputHardLimit int
	// PortableLoop serves every client with a reader and a writer goroutine, the path of
	// platforms without epoll, instead of Linux's event loop, where the loop goroutine reads
	// and writes the sockets itself. Both behave the same; the event loop costs less per
	// request.
	PortableLoop bool
}

// Default output limits per client. The soft limit is above what 500 text lines of up to
// 4 KiB take and a few times what a pipelining client that reads has in flight beside the
// kernel's socket buffers, yet small enough that a thousand clients that stop reading hold a
// few GB at most; the hard limit lets a client read a value of Redis's largest size.
const (
	DefaultOutputSoftLimit = 2 << 20
	DefaultOutputHardLimit = 1 << 30
)

// Stats is a snapshot of a server's counters.
type Stats struct {
	Active       int // clients connected now
	Dropped      int // clients that have disconnected or were dropped since Start
	DroppedLines int // text reply lines discarded because their client's queue was full
	OverLimit    int // clients dropped because their unsent replies exceeded OutputHardLimit
	Throttled    int // RESP clients whose requests wait, unread, until they read their replies
	OutputBytes  int // bytes of replies built but not yet taken by the clients' sockets, all clients
}

// roundLimit bounds how many request batches the store loop takes in one round before it sends
// their replies, so that a flood of requests cannot delay replies indefinitely.
const roundLimit = 256

// Server is the KeyValueServer returned by New and NewServer. Its store is touched only by its
// loop goroutine; each client has a reader and a writer goroutine that talk to the loop over
// channels.
type Server struct {
	db   *db
	host string
	log  *slog.Logger

	softLimit, hardLimit int // bytes of unsent replies per client; negative: none
	portable             bool
	noRing               bool // the event loop reads and writes each client with a system call of its own, as without io_uring; set by tests

	startToken chan struct{} // holds a token until Start succeeds or Close takes it
	closeToken chan struct{} // holds a token until the first Close takes it
	running    chan struct{} // closed once Start has succeeded
	quit       chan struct{} // closed by Close
	done       chan struct{} // closed when every goroutine of the server has exited

	ln   net.Listener // set by Start before running is closed; nil when ep serves the port
	addr net.Addr
	ep   *poller // the event loop's epoll set, set by Start before running is closed; nil on the portable path

	inbox   chan *batch      // acceptor and readers to loop, in order per client
	events  chan writerEvent // writers to loop
	queries chan chan Stats  // Stats to loop

	final Stats // the counters at exit, written by the loop before done is closed

	// Owned by the loop goroutine.
	clients     map[*client]struct{}
	backlog     map[*client]struct{} // every client with replies waiting for its socket or requests held, and some that had them
	dirty       []*client            // clients with replies to hand over or output to end this round
	stats       Stats
	closing     bool
	acceptDone  bool
	uncommitted bool // requests ran since the last Commit
}

// New returns a server for store with the default Config.
func New(store KVStore) KeyValueServer { return NewServer(store, Config{}) }

// NewServer returns a server for store with the given settings.
func NewServer(store KVStore, cfg Config) *Server {
	s := &Server{
		db:         newDB(store),
		host:       cfg.Host,
		log:        cfg.Logger,
		startToken: make(chan struct{}, 1),
		closeToken: make(chan struct{}, 1),
		running:    make(chan struct{}),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		inbox:      make(chan *batch, 1024),
		events:     make(chan writerEvent, 1024),
		queries:    make(chan chan Stats, 16),
		clients:    make(map[*client]struct{}),
		backlog:    make(map[*client]struct{}),
	}
	if s.host == "" {
		s.host = "127.0.0.1"
	}
	s.softLimit, s.hardLimit = cfg.OutputSoftLimit, cfg.OutputHardLimit
	s.portable = cfg.PortableLoop
	if s.softLimit == 0 {
		s.softLimit = DefaultOutputSoftLimit
	}
	if s.hardLimit == 0 {
		s.hardLimit = DefaultOutputHardLimit
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.startToken <- struct{}{}
	s.closeToken <- struct{}{}
	return s
}

// Start listens on port (0 picks a free one), starts serving and returns at once. It fails if
// the port cannot be listened on (Start may then be tried again), if the server was already
// started (ErrStarted) or if it was closed (ErrClosed).
func (s *Server) Start(port int) error {
	select {
	case <-s.startToken:
	default:
		select {
		case <-s.done:
			return ErrClosed
		default:
			return ErrStarted
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(s.host, strconv.Itoa(port)))
	if err != nil {
		s.startToken <- struct{}{} // nothing started: Start may be retried
		return fmt.Errorf("kvserver: listen: %w", err)
	}
	s.ln, s.addr = ln, ln.Addr()
	if !s.portable {
		ep, err := newPoller(ln, !s.noRing)
		switch {
		case err == nil:
			s.ep, s.ln = ep, nil
		case !errors.Is(err, errNoPoller):
			ln.Close()
			s.startToken <- struct{}{}
			return fmt.Errorf("kvserver: %w", err)
		}
	}
	if s.ep != nil {
		go s.pollLoop()
	} else {
		go s.loop()
		go s.accept()
	}
	close(s.running)
	return nil
}

// Addr returns the listening address, or nil before Start.
func (s *Server) Addr() net.Addr {
	select {
	case <-s.running:
		return s.addr
	default:
		return nil
	}
}

// CountActive returns the number of clients connected now.
func (s *Server) CountActive() int { return s.Stats().Active }

// CountDropped returns the number of clients that have disconnected or were dropped since Start.
func (s *Server) CountDropped() int { return s.Stats().Dropped }

// Stats returns a snapshot of the server's counters; after Close, their final values.
func (s *Server) Stats() Stats {
	select {
	case <-s.running:
	default:
		return Stats{}
	}
	reply := make(chan Stats, 1)
	select {
	case s.queries <- reply:
		if s.ep != nil {
			s.ep.wake()
		}
	case <-s.done:
		return s.final
	}
	select {
	case st := <-reply:
		return st
	case <-s.done:
		return s.final
	}
}

// Close stops listening, closes every client and returns once every goroutine of the server
// has exited. Replies not yet written are discarded. It is safe to call more than once and
// from several goroutines; every call returns after the shutdown is complete.
func (s *Server) Close() {
	select {
	case <-s.closeToken:
	default:
		<-s.done
		return
	}
	select {
	case <-s.startToken: // never started: there is nothing to stop
		close(s.done)
	case <-s.running:
		close(s.quit)
		if s.ep != nil {
			s.ep.wake()
		}
		<-s.done
	}
}

// accept accepts connections until the listener is closed, announcing each to the loop before
// its goroutines start so that the loop hears of a client before any of its requests.
func (s *Server) accept() {
	var nextID uint64
	tcpserve.Accept(s.ln, s.quit, s.log, func(conn net.Conn) {
		nextID++
		c := newClient(nextID, conn)
		s.inbox <- &batch{kind: batchJoin, c: c}
		go s.read(c)
		go s.write(c)
	})
	s.inbox <- &batch{kind: batchAcceptDone}
}

// loop is the goroutine that owns the store and every client's bookkeeping. It never blocks on
// a client: sends to writers always find room (see flushDirty), so no client can slow another.
func (s *Server) loop() {
	quit := s.quit
	for !(s.closing && s.acceptDone && len(s.clients) == 0) {
		select {
		case b := <-s.inbox:
			s.handleBatch(b)
			// The reader that woke the loop is usually one of several the same poll woke, and
			// the runtime runs a woken goroutine first: yield once so that the others add their
			// requests to this round, answered with one wake-up of the loop instead of one each.
			runtime.Gosched()
			for n := 1; n < roundLimit && len(s.inbox) > 0; n++ {
				s.handleBatch(<-s.inbox)
			}
		case ev := <-s.events:
			s.handleWriter(ev)
		case reply := <-s.queries:
			reply <- s.snapshot()
		case <-quit:
			quit = nil
			s.shutdown()
		}
		s.commit()
		s.flushDirty()
	}
	s.final = s.stats
	close(s.done)
}

// snapshot returns the counters now. It visits only the clients in the backlog, so that with
// many idle clients it does not stall the loop (the kvserver program asks every second), and
// forgets those that have caught up. Between rounds a client has unsent replies only while its
// socket or writer has some (sending), and requests held only behind them; both put it in the
// backlog.
func (s *Server) snapshot() Stats {
	st := s.stats
	for c := range s.backlog {
		if !c.sending && len(c.held) == 0 && len(c.pending) == 0 {
			delete(s.backlog, c)
			continue
		}
		if len(c.held) > 0 {
			st.Throttled++
		}
		st.OutputBytes += len(c.pending) + c.atWriter
	}
	return st
}

// handleBatch handles one message from the acceptor or a reader.
func (s *Server) handleBatch(b *batch) {
	c := b.c
	switch b.kind {
	case batchJoin:
		s.clients[c] = struct{}{}
		s.stats.Active++
		s.log.Debug("kvserver: client connected", "client", c.id, "remote", c.remote)
		if s.closing {
			s.abort(c)
		}
	case batchAcceptDone:
		s.acceptDone = true
	case batchLeave:
		c.readerDone = true
		if len(c.held) == 0 { // otherwise resume ends the output once it has run them
			s.endOutput(c)
		}
		s.maybeFinish(c)
	case batchRequests:
		switch {
		case c.ending:
			b.recycle()
		case len(c.held) > 0: // behind requests that wait for room
			c.held = append(c.held, b)
		case s.execute(c, b):
			b.recycle()
		default:
			c.held = append(c.held, b)
			s.backlog[c] = struct{}{}
		}
	}
}

// execute runs c's requests in b from b.next on and queues their replies. It reports whether
// it got through the batch; it stops early when a RESP client's queue is full, and the batch
// is then held until the writer has made room (see resume).
func (s *Server) execute(c *client, b *batch) bool {
	// The queue is what waits behind the write in progress, which, like the kernel's socket
	// buffer, is not counted: a client that has read its replies never finds its queue full
	// just because the writer's report of that write has not reached the loop yet.
	out := output{buf: c.pending, entries: c.pendingEntries, room: QueueLines - c.pendingEntries,
		limitBytes: s.softLimit >= 0, maxBytes: s.softLimit - c.atWriter}
	queued := len(c.pending)
	s.uncommitted = true
	c.ran = true
	for ; b.next < len(b.reqs) && !out.quit; b.next++ {
		r := b.reqs[b.next]
		args := b.args[r.lo:r.hi]
		if !b.resp {
			s.db.execText(r, args, &out)
		} else if !s.db.execRESP(r, args, &out) {
			break
		}
	}
	c.pending, c.pendingEntries = out.buf, out.entries
	s.stats.DroppedLines += out.dropped
	if !b.resp && len(out.buf) == queued && !out.quit {
		// No reply will carry the acknowledgement of these requests: send it now, or a client
		// with Nagle's algorithm on holds its next request back for the delayed ACK (40 ms).
		quickAck(c)
	}
	if out.quit {
		s.endOutput(c)
		return true
	}
	if s.hardLimit >= 0 && len(c.pending)+c.atWriter > s.hardLimit {
		s.stats.OverLimit++
		s.log.Warn("kvserver: dropping a client whose unsent replies exceed the output limit",
			"client", c.id, "bytes", len(c.pending)+c.atWriter, "limit", s.hardLimit)
		s.abort(c)
		return true
	}
	s.markDirty(c)
	return b.next == len(b.reqs)
}

// resume runs the requests held for c while its queue has room. A client that has stopped
// sending (half-closed, say) still gets them all run and answered before its output ends.
func (s *Server) resume(c *client) {
	for len(c.held) > 0 && !c.ending {
		if !s.execute(c, c.held[0]) {
			return
		}
		if c.ending {
			return // endOutput has recycled every held batch, this one included
		}
		c.held[0].recycle()
		c.held = c.held[1:]
	}
	if c.readerDone && !c.ending {
		s.endOutput(c)
	}
	if c.polled && len(c.held) == 0 {
		s.ep.queue(c) // read it again if reading waited for room
	}
}

// handleWriter handles a report from a writer.
func (s *Server) handleWriter(ev writerEvent) {
	c := ev.c
	if ev.exited {
		c.writerDone = true
		s.maybeFinish(c)
		return
	}
	c.sending, c.atWriter = false, 0
	if ev.failed && !c.ending {
		s.abort(c)
	}
	if cap(ev.buf) <= maxKeptBuffer {
		c.spareBuf = ev.buf[:0]
	}
	s.markDirty(c)
	s.resume(c)
}

func (s *Server) markDirty(c *client) {
	if !c.dirty {
		c.dirty = true
		s.dirty = append(s.dirty, c)
	}
}

// commit makes the mutations of the round durable, on a store that commits in groups, before
// flushDirty hands their replies to the writers. If that fails, every client that ran requests
// in the round is dropped instead of answered: a RESP client is owed a reply that would
// acknowledge its write, and a text client's Put has no reply at all, so closing its
// connection is the only way to tell it that the Put may be gone.
func (s *Server) commit() {
	if !s.uncommitted || s.db.committer == nil {
		return
	}
	s.uncommitted = false
	err := s.db.committer.Commit()
	if err != nil {
		s.log.Error("kvserver: the store could not commit; dropping the clients whose requests it held", "err", err)
	}
	for _, c := range s.dirty {
		if err != nil && (len(c.pending) > 0 || c.ran && !c.ending) {
			s.abort(c)
		}
		c.ran = false
	}
}

// flushDirty sends each dirty client its pending replies, and closes the output of clients
// that are ending once everything they are owed has gone. While a client's writer is idle the
// loop writes what the socket takes at once itself, without waiting (on the event loop, the
// round's clients all with one system call when it can: see sendRound); only a remainder (a
// client that is not keeping up) is handed to the writer, which has room for one buffer, so
// the loop never blocks. Writing may make room for held requests, whose replies are flushed in
// turn.
func (s *Server) flushDirty() {
	if s.ep != nil {
		s.sendRound()
	}
	for len(s.dirty) > 0 {
		c := s.dirty[len(s.dirty)-1]
		s.dirty[len(s.dirty)-1] = nil
		s.dirty = s.dirty[:len(s.dirty)-1]
		c.dirty = false
		if c.outClosed || c.sending {
			continue
		}
		if len(c.pending) > 0 && (c.raw != nil || c.polled) {
			s.writeNow(c)
		}
		if len(c.pending) > 0 && c.polled {
			s.awaitWritable(c)
			s.backlog[c] = struct{}{}
			continue
		}
		if len(c.pending) > 0 {
			c.out <- c.pending
			c.sending, c.atWriter = true, len(c.pending)
			c.pending, c.pendingEntries, c.spareBuf = c.spareBuf, 0, nil
			s.backlog[c] = struct{}{}
			continue
		}
		if c.ending {
			if c.polled {
				s.closePolled(c)
			} else {
				close(c.out)
			}
			c.outClosed = true
			continue
		}
		s.resume(c)
	}
}

// writeNow writes as much of c's pending replies as its socket takes without waiting and keeps
// the rest pending. A write error means the client is gone: its replies are discarded and its
// connection hung up, which ends its reader and so the client.
func (s *Server) writeNow(c *client) {
	var n int
	var err error
	if c.polled {
		n, err = writeFD(c.fd, c.pending)
	} else {
		n, err = writeNow(c.raw, c.pending)
	}
	if err != nil {
		s.abort(c) // the client is gone: run none of its requests still waiting
		return
	}
	if n == len(c.pending) {
		c.pending, c.pendingEntries = c.pending[:0], 0
		return
	}
	c.pending = c.pending[:copy(c.pending, c.pending[n:])]
}

// endOutput stops taking requests from c; its writer finishes the replies already queued and
// then closes the connection.
func (s *Server) endOutput(c *client) {
	c.ending = true
	for _, b := range c.held {
		b.recycle()
	}
	c.held = nil
	s.markDirty(c)
}

// abort drops c at once: its queued replies are discarded and its connection hung up, which
// wakes its reader and writer.
func (s *Server) abort(c *client) {
	c.pending, c.pendingEntries = nil, 0
	if c.polled {
		c.stopPolled()
	} else {
		hangUp(c)
	}
	s.endOutput(c)
}

// maybeFinish forgets c once both its goroutines are done.
func (s *Server) maybeFinish(c *client) {
	if !c.readerDone || !c.writerDone {
		return
	}
	delete(s.clients, c)
	delete(s.backlog, c)
	s.stats.Active--
	s.stats.Dropped++
	s.log.Debug("kvserver: client gone", "client", c.id)
}

// shutdown starts closing: no more connections, every client dropped.
func (s *Server) shutdown() {
	s.closing = true
	if s.ep != nil {
		s.ep.closeListener()
	} else {
		s.ln.Close()
	}
	for c := range s.clients {
		s.abort(c)
	}
}
