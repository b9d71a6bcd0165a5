package lsp

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"ds440/lsp/lspnet"
)

// Client is the client end of an LSP connection. Its methods may be called from any goroutine.
type Client interface {
	// ConnID returns the id the server gave this connection.
	ConnID() int
	// Read returns the next payload from the server, in order, blocking until one arrives. It
	// returns an error (ErrConnLost or ErrClosed) once the connection is lost or closed and
	// nothing is left to read.
	Read() ([]byte, error)
	// Write queues payload for sending and returns at once; it never waits for the network.
	// It returns an error if the connection is lost or closed.
	Write(payload []byte) error
	// Close blocks until every message written is acked, or the connection is lost
	// (ErrConnLost), then releases the connection. Calling it again returns the same result.
	Close() error
}

// NewClient connects to the LSP server at hostport, sending Connect(initialSeqNum) every epoch
// until the server acks it. It returns ErrNoServer after EpochLimit epochs of silence. A nil
// params means NewParams().
func NewClient(hostport string, initialSeqNum int, params *Params) (Client, error) {
	return NewClientWith(hostport, initialSeqNum, params)
}

// NewClientWith is NewClient with options: a logger, or the network to dial on.
func NewClientWith(hostport string, initialSeqNum int, params *Params, opts ...Option) (Client, error) {
	o := newOptions(opts)
	p, err := params.validate()
	if err != nil {
		return nil, err
	}
	if initialSeqNum < 0 || initialSeqNum > MaxInitialSeqNum {
		return nil, ErrBadSeqNum
	}
	raddr, err := lspnet.ResolveUDPAddr("udp", hostport)
	if err != nil {
		return nil, fmt.Errorf("lsp: resolve %q: %w", hostport, err)
	}
	udp, err := o.dial("udp", nil, raddr)
	if err != nil {
		return nil, fmt.Errorf("lsp: dial %s: %w", hostport, err)
	}
	growBuffers(udp, o.log)
	c := &client{
		udp:       udp,
		log:       o.log,
		params:    p,
		core:      newClientConn(initialSeqNum, p),
		packets:   make(chan *packets, recycled),
		free:      make(chan *packets, recycled),
		writes:    make(chan []byte, burst),
		reads:     make(chan []byte, readAhead),
		closeReqs: make(chan chan error, 1),
		connected: make(chan struct{}),
		lostCh:    make(chan struct{}),
		drainedCh: make(chan struct{}),
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
		stop:      make(chan struct{}),
		readerEnd: make(chan struct{}),
	}
	if c.own = ownSocket(udp, o.log, false); c.own != nil {
		close(c.readerEnd) // no reader: the loop reads the socket
	} else {
		go func() {
			defer close(c.readerEnd)
			readPackets(udp, o.log, false, c.packets, c.free, c.stop)
		}()
	}
	go c.loop()
	select {
	case <-c.connected:
		c.log.Debug("lsp: connected", "server", hostport, "conn", c.connID)
		return c, nil
	case <-c.lostCh:
		c.Close()
		return nil, fmt.Errorf("%w at %s after %d epochs", ErrNoServer, hostport, p.EpochLimit)
	}
}

// client wires one conn to a socket, a ticker and the API. Only loop touches core, queue and
// the socket's write side; the other goroutines talk to it through channels.
type client struct {
	udp    *lspnet.UDPConn
	log    *slog.Logger
	params Params
	connID int // written by loop before connected is closed, read-only after

	own *ownedSocket // the socket's read side when the loop reads it; nil: a reader goroutine

	// Owned by loop.
	core     *conn
	queue    [][]byte // delivered payloads not yet Read
	wr       *writer
	waiters  []chan error // Close calls waiting for the flush
	lost     bool         // lostCh is closed
	drained  bool         // drainedCh is closed
	isClosed bool         // closing is closed

	packets   chan *packets   // datagrams from the reader
	free      chan *packets   // back to the reader for reuse
	writes    chan []byte     // Write -> loop, buffered so that Write need not wait for it
	reads     chan []byte     // loop -> Read
	closeReqs chan chan error // Close -> loop

	connected chan struct{} // closed when the server acks Connect
	lostCh    chan struct{} // closed when the connection is lost
	drainedCh chan struct{} // closed when lost and every delivered payload has been Read
	closing   chan struct{} // closed when Close is first called
	done      chan struct{} // closed when Close has finished; closeErr is then set
	stop      chan struct{} // closed to stop the reader, just before the socket closes
	readerEnd chan struct{} // closed when the reader has returned
	closeErr  error
}

func (c *client) ConnID() int { return c.connID }

func (c *client) Read() ([]byte, error) {
	select {
	case <-c.done: // checked first: payloads left in the channel are not read after Close
		return nil, ErrClosed
	default:
	}
	select {
	case p := <-c.reads:
		c.readDone()
		return p, nil
	case <-c.drainedCh:
		// Nothing more will be queued, but a payload may still sit in the channel.
		select {
		case p := <-c.reads:
			return p, nil
		default:
			return nil, ErrConnLost
		}
	case <-c.done:
		return nil, ErrClosed
	}
}

// readDone wakes a loop that waits on its socket with payloads for Read held back, once Read
// has emptied the Read channel.
func (c *client) readDone() {
	if c.own != nil && len(c.reads) == 0 {
		c.own.wakeReader()
	}
}

func (c *client) Write(payload []byte) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, len(payload), MaxPayload)
	}
	select {
	case <-c.lostCh:
		return ErrConnLost
	case <-c.closing:
		return ErrClosed
	default:
	}
	// The caller may reuse payload as soon as Write returns.
	p := append([]byte(nil), payload...)
	if p == nil {
		p = []byte{}
	}
	select {
	case c.writes <- p:
		if c.own != nil {
			c.own.wake()
		}
		return nil
	case <-c.lostCh:
		return ErrConnLost
	case <-c.closing:
		return ErrClosed
	}
}

func (c *client) Close() error {
	reply := make(chan error, 1)
	select {
	case <-c.done:
		return c.closeErr
	case c.closeReqs <- reply:
		if c.own != nil {
			c.own.wake()
		}
	}
	select {
	case err := <-reply:
		return err
	case <-c.done:
		// The loop ended before taking this call: an earlier Close finished it.
		return c.closeErr
	}
}

// loop is the only goroutine that touches the connection's state. Each event (a select case,
// or a read of an owned socket) is handled and then settled by after.
func (c *client) loop() {
	c.wr = newWriter(c.udp, c.log)
	c.wr.send(c.core.outbox(), nil)
	if c.own != nil && c.ownedLoop() {
		return
	}
	ticker := time.NewTicker(c.params.epoch())
	defer ticker.Stop()
	for {
		var reads chan []byte
		var head []byte
		if len(c.queue) > 0 {
			reads, head = c.reads, c.queue[0]
		}
		ticks := ticker.C
		if c.lost {
			ticks = nil // a lost connection has nothing more to time
		}
		select {
		case b := <-c.packets:
			c.receive(b.pkts)
			recycle(c.free, b)
			c.receiveQueued()
		case <-ticks:
			c.core.tick()
		case p := <-c.writeReqs():
			c.write(p)
		case reads <- head:
			c.queue[0] = nil
			c.queue = c.queue[1:]
		case reply := <-c.closeReqs:
			c.close(reply)
		}
		if c.after() {
			return
		}
	}
}

// ownedLoop is loop on a socket the loop reads itself (see ownedSocket). It returns true when
// the client is closed, false when the connection is lost or the socket was closed under it:
// loop then carries on without the socket.
func (c *client) ownedLoop() bool {
	o := c.own
	epoch := c.params.epoch()
	next := time.Now().Add(epoch)
	for {
		busy := false
		select {
		case p := <-c.writeReqs():
			c.write(p)
			busy = true
		case reply := <-c.closeReqs:
			c.close(reply)
			busy = true
		default:
		}
		if len(c.queue) > 0 {
			c.queue = pushReads(c.reads, c.queue)
		}
		wait := !busy && !c.hasRequests()
		backlog := len(c.queue) > 0
		if wait {
			o.arm(next, backlog)
			// Looked at again with the tokens out: a call queued, or a Read that emptied
			// the Read channel, before they were out did not find them.
			if wait = !c.hasRequests() && !(backlog && len(c.reads) < cap(c.reads)); !wait {
				o.disarm(backlog)
			}
		}
		pkts, err := o.read(wait)
		if wait {
			o.disarm(backlog)
		}
		c.receive(pkts)
		if now := time.Now(); !now.Before(next) {
			c.core.tick()
			for !now.Before(next) {
				next = next.Add(epoch)
			}
		}
		if c.after() {
			return true
		}
		if c.lost || err != nil {
			if err != nil {
				// Closed under us: with nothing more heard, the connection is lost after
				// EpochLimit epochs, which the ticker of loop still counts.
				c.log.Debug("lsp: socket closed", "err", err)
			}
			return false
		}
	}
}

// writeReqs is the channel of Write's payloads, nil once Close was called.
func (c *client) writeReqs() chan []byte {
	if c.isClosed || c.lost {
		return nil
	}
	return c.writes
}

// hasRequests reports whether an API call is queued for the loop.
func (c *client) hasRequests() bool {
	return len(c.writeReqs()) > 0 || len(c.closeReqs) > 0
}

// write feeds the conn p and the writes already waiting behind it, so that what they let
// through the window leaves in one batch.
func (c *client) write(p []byte) {
	c.core.write(p)
	c.writeQueued(c.writeReqs())
}

// close starts closing the connection for a Close call waiting on reply. Writes already
// queued are taken first; a Write racing with Close may still land in the channel after this
// and is then dropped, as if it had come after Close.
func (c *client) close(reply chan error) {
	c.waiters = append(c.waiters, reply)
	if c.isClosed {
		return
	}
	c.writeQueued(c.writeReqs())
	c.isClosed = true
	close(c.closing)
	c.core.close()
}

// after carries out what the last event asked for: queue deliveries for Read, send the conn's
// datagrams, and notice a connection made, lost or done. It reports whether the loop is over.
func (c *client) after() bool {
	// Hand payloads to Read before the socket writes. If any were delivered, let a reader
	// run first: an answer it writes at once joins the acks in one batch.
	if d := c.core.deliveries(); len(d) > 0 {
		c.queue = append(c.queue, d...)
		c.queue = pushReads(c.reads, c.queue)
		runtime.Gosched()
		c.writeQueued(c.writeReqs())
	}
	c.wr.send(c.core.outbox(), nil)
	if c.connID == 0 && !c.core.connecting && !c.core.lost {
		c.connID = c.core.id
		close(c.connected)
	}
	if c.core.lost && !c.lost {
		c.lost = true
		close(c.lostCh)
		c.shutdownSocket()
	}
	if c.lost && len(c.queue) == 0 && !c.drained {
		c.drained = true
		close(c.drainedCh)
	}
	if c.isClosed && (c.lost || c.core.done()) {
		if c.lost && !c.core.snd.idle() {
			c.closeErr = ErrConnLost
		}
		c.shutdownSocket()
		close(c.done)
		for _, w := range c.waiters {
			w <- c.closeErr
		}
		return true
	}
	return false
}

// readAhead is how many delivered payloads wait in a Read channel; more wait in the loop's
// queue, which has no bound, so that Write and the protocol never wait for a slow reader.
const readAhead = 256

// pushReads moves payloads from the front of queue into the Read channel while it has room.
func pushReads[T any](reads chan<- T, queue []T) []T {
	n := 0
push:
	for n < len(queue) {
		select {
		case reads <- queue[n]:
			n++
		default:
			break push
		}
	}
	clear(queue[:n]) // the queue must not keep what Read now owns
	if n == len(queue) {
		return queue[:0] // reuse the storage
	}
	return queue[n:]
}

// burst bounds how many queued datagrams (or writes) a loop handles as one event. Handling a
// burst together sends what it produces (one Ack per data message, the data the acks let
// through the window) in one batch.
const burst = 64

// writeQueued feeds the conn the writes already waiting, up to burst, without blocking.
func (c *client) writeQueued(writes <-chan []byte) {
	for range burst {
		select {
		case p := <-writes:
			c.core.write(p)
		default:
			return
		}
	}
}

// receive feeds the conn the datagrams pkts.
func (c *client) receive(pkts []packet) {
	for _, pkt := range pkts {
		c.core.receive(pkt.msg)
	}
}

// receiveQueued feeds the conn the datagrams already waiting, up to about burst, without
// blocking.
func (c *client) receiveQueued() {
	for range burst / readBatch {
		select {
		case b := <-c.packets:
			c.receive(b.pkts)
			recycle(c.free, b)
		default:
			return
		}
	}
}

// shutdownSocket stops the reader and closes the socket, once.
func (c *client) shutdownSocket() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	c.udp.Close()
	<-c.readerEnd
}
