package lsp

import (
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"time"

	"ds440/lsp/lspnet"
)

// Server is the server end of LSP: it accepts connections from many clients on one UDP port.
// Its methods may be called from any goroutine.
type Server interface {
	// Read returns the next payload from any client with that client's connection id,
	// blocking until one arrives. When a connection is lost it returns that id with a nil
	// payload and ErrConnLost (once); after Close it returns ErrClosed.
	Read() (connID int, payload []byte, err error)
	// Write queues payload for connection connID and returns at once.
	Write(connID int, payload []byte) error
	// CloseConn stops writes to connID and returns at once; messages already written are
	// still delivered. The connection is forgotten once they are acked.
	CloseConn(connID int) error
	// Close blocks until every message written to any client is acked or its connection is
	// lost (then it returns ErrConnLost), then releases the port. Calling it again returns the
	// same result.
	Close() error
}

// NewServer listens for LSP clients on UDP port port of every local address. A nil params
// means NewParams(). With port 0 the system picks a free port; the returned Server also has
// an Addr() string method, outside the Server interface so that the contract stays as
// written, that reports it:
//
//	addr := s.(interface{ Addr() string }).Addr()
func NewServer(port int, params *Params) (Server, error) {
	return NewServerWith(port, params)
}

// NewServerWith is NewServer with options: a logger, or the network to listen on.
func NewServerWith(port int, params *Params, opts ...Option) (Server, error) {
	o := newOptions(opts)
	p, err := params.validate()
	if err != nil {
		return nil, err
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("lsp: bad port %d", port)
	}
	laddr, err := lspnet.ResolveUDPAddr("udp", lspnet.JoinHostPort("", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("lsp: resolve port %d: %w", port, err)
	}
	udp, err := o.listen("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("lsp: listen on port %d: %w", port, err)
	}
	growBuffers(udp, o.log)
	s := &server{
		log:        o.log,
		addr:       boundAddr(udp, port),
		udp:        udp,
		params:     p,
		conns:      make(map[int]*serverConn),
		byClient:   make(map[clientKey]*serverConn),
		packets:    make(chan *packets, recycled),
		free:       make(chan *packets, recycled),
		writes:     make(chan serverWrite, burst),
		closeConns: make(chan serverCloseConn, burst),
		reads:      make(chan readResult, readAhead),
		closeReqs:  make(chan chan error, 1),
		replies:    make(chan chan error, burst),
		done:       make(chan struct{}),
		stop:       make(chan struct{}),
		readerEnd:  make(chan struct{}),
	}
	if s.own = ownSocket(udp, o.log, true); s.own != nil {
		close(s.readerEnd) // no reader: the loop reads the socket
	} else {
		go func() {
			defer close(s.readerEnd)
			readPackets(udp, o.log, true, s.packets, s.free, s.stop)
		}()
	}
	go s.loop()
	return s, nil
}

// clientKey identifies a connection request: one client address and initial sequence number
// make one connection, however many times its Connect arrives.
type clientKey struct {
	addr string
	isn  int
}

// serverConn is one client's connection as the server loop keeps it.
type serverConn struct {
	*conn
	addr    *lspnet.UDPAddr
	key     clientKey
	closed  bool // given to CloseConn: deliver nothing more, forget it once flushed
	touched bool // in server.touched
}

type serverWrite struct {
	connID  int
	payload []byte
	reply   chan error
}

type serverCloseConn struct {
	connID int
	reply  chan error
}

type readResult struct {
	connID  int
	payload []byte
	err     error
}

// server wires many conns to one socket, one ticker and the API. Only loop touches the
// connection maps, the read queue and the socket's write side.
type server struct {
	udp    *lspnet.UDPConn
	log    *slog.Logger
	addr   string
	params Params

	conns    map[int]*serverConn       // by connection id; owned by loop
	byClient map[clientKey]*serverConn // the same connections by who asked for them
	lastID   int                       // the last connection id handed out
	closing  bool                      // Close was called; owned by loop
	waiters  []chan error              // Close calls waiting; owned by loop
	touched  []*serverConn             // connections the current burst of datagrams reached
	queue    []readResult              // results not yet Read; owned by loop

	own *ownedSocket // the socket's read side when the loop reads it; nil: a reader goroutine

	packets    chan *packets
	free       chan *packets
	writes     chan serverWrite     // buffered, like closeConns and closeReqs, so that a loop
	closeConns chan serverCloseConn // reading its own socket need not be in select to take them
	reads      chan readResult
	closeReqs  chan chan error

	done      chan struct{} // closed when Close has finished; closeErr is then set
	stop      chan struct{} // closed to stop the reader, just before the socket closes
	readerEnd chan struct{}
	closeErr  error

	replies chan chan error // answered reply channels, for the next Write or CloseConn
}

// Addr returns the address the server listens on, such as "[::]:41234" (see NewServer).
func (s *server) Addr() string { return s.addr }

// boundAddr reports where udp listens. Finding a port the system picked needs LocalAddr, which
// the lspnet contract does not require, so it is used only when the lspnet in use has it.
func boundAddr(udp *lspnet.UDPConn, port int) string {
	if la, ok := any(udp).(interface{ LocalAddr() *lspnet.UDPAddr }); ok {
		if a := la.LocalAddr(); a != nil {
			return a.String()
		}
	}
	return lspnet.JoinHostPort("", strconv.Itoa(port))
}

func (s *server) Read() (int, []byte, error) {
	select {
	case <-s.done: // checked first: payloads left in the channel are not read after Close
		return 0, nil, ErrClosed
	default:
	}
	select {
	case r := <-s.reads:
		if s.own != nil && len(s.reads) == 0 {
			s.own.wakeReader() // the loop may hold more for Read
		}
		return r.connID, r.payload, r.err
	case <-s.done:
		return 0, nil, ErrClosed
	}
}

func (s *server) Write(connID int, payload []byte) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, len(payload), MaxPayload)
	}
	p := append([]byte(nil), payload...) // the caller may reuse payload at once
	if p == nil {
		p = []byte{}
	}
	req := serverWrite{connID: connID, payload: p, reply: s.replyChan()}
	select {
	case s.writes <- req:
		return s.await(req.reply)
	case <-s.done:
		s.putReply(req.reply)
		return ErrClosed
	}
}

// replyChan returns an empty reply channel for a request, one used before if one is free.
func (s *server) replyChan() chan error {
	select {
	case r := <-s.replies:
		return r
	default:
		return make(chan error, 1)
	}
}

// putReply keeps reply, which must be empty and no longer known to the loop, for reuse.
func (s *server) putReply(reply chan error) {
	select {
	case s.replies <- reply:
	default:
	}
}

// await wakes the loop for a request just queued and waits for its answer.
func (s *server) await(reply chan error) error {
	if s.own != nil {
		s.own.wake()
	}
	select {
	case err := <-reply:
		s.putReply(reply)
		return err
	case <-s.done:
		// The loop may have answered just before it ended.
		select {
		case err := <-reply:
			return err
		default:
			return ErrClosed
		}
	}
}

func (s *server) CloseConn(connID int) error {
	req := serverCloseConn{connID: connID, reply: s.replyChan()}
	select {
	case s.closeConns <- req:
		return s.await(req.reply)
	case <-s.done:
		s.putReply(req.reply)
		return ErrClosed
	}
}

func (s *server) Close() error {
	reply := make(chan error, 1)
	select {
	case <-s.done:
		return s.closeErr
	case s.closeReqs <- reply:
		if s.own != nil {
			s.own.wake()
		}
	}
	select {
	case err := <-reply:
		return err
	case <-s.done:
		// The loop ended before taking this call: an earlier Close finished it.
		return s.closeErr
	}
}

// loop is the only goroutine that touches the server's state. Each select case is one event.
// Nothing in it waits on a client, so one slow or dead client cannot hold up the others.
func (s *server) loop() {
	w := newWriter(s.udp, s.log)
	if s.own != nil && s.ownedLoop(w) {
		return
	}
	ticker := time.NewTicker(s.params.epoch())
	defer ticker.Stop()
	for {
		var reads chan readResult
		var head readResult
		if len(s.queue) > 0 {
			reads, head = s.reads, s.queue[0]
		}
		select {
		case b := <-s.packets:
			s.receiveBurst(b, w)
		case <-ticker.C:
			s.tick(w)
		case req := <-s.writes:
			s.writeBurst(req, w)
		case req := <-s.closeConns:
			req.reply <- s.closeConn(req.connID, w)
		case reads <- head:
			s.queue[0] = readResult{}
			s.queue = s.queue[1:]
		case reply := <-s.closeReqs:
			s.close(reply, w)
		}
		if s.closing && len(s.conns) == 0 {
			s.shutdown()
			return
		}
	}
}

// ownedLoop is loop on a socket the loop reads itself (see ownedSocket). It returns true when
// the server is closed, false if the socket was closed under it: loop then carries on without
// it.
func (s *server) ownedLoop(w *writer) bool {
	o := s.own
	epoch := s.params.epoch()
	next := time.Now().Add(epoch)
	for {
		busy := true
		select {
		case req := <-s.writes:
			s.writeBurst(req, w)
		case req := <-s.closeConns:
			req.reply <- s.closeConn(req.connID, w)
		case reply := <-s.closeReqs:
			s.close(reply, w)
		default:
			busy = false
		}
		if len(s.queue) > 0 {
			s.queue = pushReads(s.reads, s.queue)
		}
		wait := !busy && !s.hasRequests()
		backlog := len(s.queue) > 0
		if wait {
			o.arm(next, backlog)
			// Looked at again with the tokens out: a call queued, or a Read that emptied
			// the Read channel, before they were out did not find them.
			if wait = !s.hasRequests() && !(backlog && len(s.reads) < cap(s.reads)); !wait {
				o.disarm(backlog)
			}
		}
		pkts, err := o.read(wait)
		if wait {
			o.disarm(backlog)
		}
		if len(pkts) > 0 {
			for _, pkt := range pkts {
				s.receive(pkt)
			}
			s.settleTouched(w)
		}
		if now := time.Now(); !now.Before(next) {
			s.tick(w)
			for !now.Before(next) {
				next = next.Add(epoch)
			}
		}
		if err != nil {
			// Closed under us: nothing more can be heard, and every connection is lost
			// after EpochLimit epochs, which loop's ticker counts.
			s.log.Debug("lsp: socket closed", "err", err)
			return false
		}
		if s.closing && len(s.conns) == 0 {
			s.shutdown()
			return true
		}
	}
}

// hasRequests reports whether an API call is queued for the loop.
func (s *server) hasRequests() bool {
	return len(s.writes) > 0 || len(s.closeConns) > 0 || len(s.closeReqs) > 0
}

// tick is an epoch boundary for every connection.
func (s *server) tick(w *writer) {
	for _, sc := range s.conns {
		sc.tick()
		s.settle(sc, w)
	}
}

// close starts closing the server for a Close call waiting on reply.
func (s *server) close(reply chan error, w *writer) {
	s.waiters = append(s.waiters, reply)
	if s.closing {
		return
	}
	s.closing = true
	for _, sc := range s.conns {
		sc.close()
		s.settle(sc, w)
	}
}

// shutdown releases the socket and answers the Close calls; the loop's last act.
func (s *server) shutdown() {
	close(s.stop)
	s.udp.Close()
	<-s.readerEnd
	close(s.done)
	for _, w := range s.waiters {
		w <- s.closeErr
	}
}

// receiveBurst handles the datagrams of b and those already queued behind them (up to about
// burst) as one event, then settles each connection they touched once, so that what a burst
// from one client produces leaves in one batch.
func (s *server) receiveBurst(b *packets, w *writer) {
	s.receiveAll(b)
drain:
	for range burst / readBatch {
		select {
		case b := <-s.packets:
			s.receiveAll(b)
		default:
			break drain
		}
	}
	s.settleTouched(w)
}

// receiveAll routes the datagrams of b and gives b back to the reader.
func (s *server) receiveAll(b *packets) {
	for _, pkt := range b.pkts {
		s.receive(pkt)
	}
	recycle(s.free, b)
}

// settleTouched settles every connection touched since the last call. If any delivered
// payloads, a reader is let run before the socket writes: an answer it writes at once joins
// the acks in one batch.
func (s *server) settleTouched(w *writer) {
	delivered := false
	for _, sc := range s.touched {
		delivered = s.deliver(sc) || delivered
	}
	if delivered {
		runtime.Gosched()
		s.writeQueued()
	}
	for i, sc := range s.touched {
		sc.touched = false
		s.touched[i] = nil
		s.settle(sc, w)
	}
	s.touched = s.touched[:0]
}

// writeQueued handles the writes already waiting, up to burst, without blocking, touching the
// connections they reach.
func (s *server) writeQueued() {
	for range burst {
		select {
		case req := <-s.writes:
			sc, err := s.write(req)
			req.reply <- err
			if sc != nil {
				s.touch(sc)
			}
		default:
			return
		}
	}
}

// writeBurst handles req and the writes already queued behind it (up to burst) as one event,
// then settles each connection they reached once, so that what they let through the window
// leaves in one batch.
func (s *server) writeBurst(req serverWrite, w *writer) {
	for i := 0; ; i++ {
		sc, err := s.write(req)
		req.reply <- err // before the socket writes: the caller need not wait for them
		if sc != nil {
			s.touch(sc)
		}
		if i == burst {
			break
		}
		select {
		case req = <-s.writes:
			continue
		default:
		}
		break
	}
	s.settleTouched(w)
}

// touch marks sc as needing settle at the end of the current burst.
func (s *server) touch(sc *serverConn) {
	if !sc.touched {
		sc.touched = true
		s.touched = append(s.touched, sc)
	}
}

// receive routes one datagram to its connection, opening a connection for a new Connect.
func (s *server) receive(pkt packet) {
	m := pkt.msg
	if m.Type == MsgConnect {
		key := clientKey{addr: pkt.addr.String(), isn: m.SeqNum}
		sc, ok := s.byClient[key]
		if !ok {
			if s.closing || m.SeqNum < 0 || m.SeqNum > MaxInitialSeqNum {
				return
			}
			s.lastID++
			sc = &serverConn{conn: newServerConn(s.lastID, m.SeqNum, s.params), addr: pkt.addr, key: key}
			s.conns[sc.id] = sc
			s.byClient[key] = sc
			s.log.Debug("lsp: accepted", "client", key.addr, "conn", sc.id)
		} else {
			sc.receive(m)
		}
		s.touch(sc)
		return
	}
	sc, ok := s.conns[m.ConnID]
	// The socket hands out one *UDPAddr per sender where it can, so comparing pointers
	// spares formatting the address for nearly every datagram.
	if !ok || (sc.addr != pkt.addr && sc.key.addr != pkt.addr.String()) {
		return // a stray datagram: a forgotten connection, or not from that connection's client
	}
	sc.receive(m)
	s.touch(sc)
}

// write queues a payload on its connection and returns the connection to settle.
func (s *server) write(w serverWrite) (*serverConn, error) {
	sc, ok := s.conns[w.connID]
	switch {
	case ok && !sc.closed && !sc.closing:
		sc.write(w.payload)
		return sc, nil
	case ok || (w.connID > 0 && w.connID <= s.lastID):
		return nil, ErrConnClosed
	}
	return nil, ErrUnknownConn
}

func (s *server) closeConn(id int, w *writer) error {
	sc, ok := s.conns[id]
	switch {
	case ok:
		sc.closed = true
		sc.close()
		s.settle(sc, w)
		return nil
	case id > 0 && id <= s.lastID:
		return nil // already closed or lost
	}
	return ErrUnknownConn
}

// settle carries out what the last event on sc asked for: send its datagrams, queue its
// deliveries, and forget it once it is lost or closed and flushed.
func (s *server) settle(sc *serverConn, w *writer) {
	// Hand payloads to Read before the socket writes, so a reader runs alongside them.
	s.deliver(sc)
	w.send(sc.outbox(), sc.addr)
	switch {
	case sc.lost:
		if !sc.closed {
			s.queue = pushReads(s.reads, append(s.queue, readResult{connID: sc.id, err: ErrConnLost}))
		}
		if s.closing && !sc.snd.idle() {
			s.closeErr = ErrConnLost
		}
		s.log.Debug("lsp: lost", "client", sc.key.addr, "conn", sc.id)
		s.forget(sc)
	case sc.done():
		s.forget(sc)
	}
}

// deliver queues sc's deliveries for Read and reports whether there were any.
func (s *server) deliver(sc *serverConn) bool {
	d := sc.deliveries()
	if len(d) == 0 {
		return false
	}
	if !sc.closed {
		for _, p := range d {
			s.queue = append(s.queue, readResult{connID: sc.id, payload: p})
		}
		s.queue = pushReads(s.reads, s.queue)
	}
	return true
}

func (s *server) forget(sc *serverConn) {
	delete(s.conns, sc.id)
	delete(s.byClient, sc.key)
}
