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
		writes:     make(chan serverWrite),
		closeConns: make(chan serverCloseConn),
		reads:      make(chan readResult, readAhead),
		closeReqs:  make(chan chan error),
		done:       make(chan struct{}),
		stop:       make(chan struct{}),
		readerEnd:  make(chan struct{}),
	}
	go func() {
		defer close(s.readerEnd)
		readPackets(udp, o.log, true, runsExpected(p), s.packets, s.free, s.stop)
	}()
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
	touched  []*serverConn             // connections the current burst of datagrams reached
	queue    []readResult              // results not yet Read; owned by loop

	packets    chan *packets
	free       chan *packets
	writes     chan serverWrite
	closeConns chan serverCloseConn
	reads      chan readResult
	closeReqs  chan chan error

	done      chan struct{} // closed when Close has finished; closeErr is then set
	stop      chan struct{} // closed to stop the reader, just before the socket closes
	readerEnd chan struct{}
	closeErr  error
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
	req := serverWrite{connID: connID, payload: p, reply: make(chan error, 1)}
	select {
	case s.writes <- req:
		return <-req.reply
	case <-s.done:
		return ErrClosed
	}
}

func (s *server) CloseConn(connID int) error {
	req := serverCloseConn{connID: connID, reply: make(chan error, 1)}
	select {
	case s.closeConns <- req:
		return <-req.reply
	case <-s.done:
		return ErrClosed
	}
}

func (s *server) Close() error {
	reply := make(chan error, 1)
	select {
	case s.closeReqs <- reply:
		return <-reply
	case <-s.done:
		return s.closeErr
	}
}

// loop is the only goroutine that touches the server's state. Each select case is one event.
// Nothing in it waits on a client, so one slow or dead client cannot hold up the others.
func (s *server) loop() {
	ticker := time.NewTicker(s.params.epoch())
	defer ticker.Stop()
	w := newWriter(s.udp, s.log)
	var waiters []chan error
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
			for _, sc := range s.conns {
				sc.tick()
				s.settle(sc, w)
			}
		case req := <-s.writes:
			s.writeBurst(req, w)
		case req := <-s.closeConns:
			req.reply <- s.closeConn(req.connID, w)
		case reads <- head:
			s.queue[0] = readResult{}
			s.queue = s.queue[1:]
		case reply := <-s.closeReqs:
			waiters = append(waiters, reply)
			if !s.closing {
				s.closing = true
				for _, sc := range s.conns {
					sc.close()
					s.settle(sc, w)
				}
			}
		}
		if s.closing && len(s.conns) == 0 {
			close(s.stop)
			s.udp.Close()
			<-s.readerEnd
			close(s.done)
			for _, w := range waiters {
				w <- s.closeErr
			}
			return
		}
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
