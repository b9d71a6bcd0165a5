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
		writes:    make(chan []byte),
		reads:     make(chan []byte, readAhead),
		closeReqs: make(chan chan error),
		connected: make(chan struct{}),
		lostCh:    make(chan struct{}),
		drained:   make(chan struct{}),
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
		stop:      make(chan struct{}),
		readerEnd: make(chan struct{}),
	}
	go func() {
		defer close(c.readerEnd)
		readPackets(udp, o.log, false, runsExpected(p), c.packets, c.free, c.stop)
	}()
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

	core  *conn    // owned by loop
	queue [][]byte // delivered payloads not yet Read; owned by loop

	packets   chan *packets   // datagrams from the reader
	free      chan *packets   // back to the reader for reuse
	writes    chan []byte     // Write -> loop
	reads     chan []byte     // loop -> Read
	closeReqs chan chan error // Close -> loop

	connected chan struct{} // closed when the server acks Connect
	lostCh    chan struct{} // closed when the connection is lost
	drained   chan struct{} // closed when lost and every delivered payload has been Read
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
		return p, nil
	case <-c.drained:
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
	case c.closeReqs <- reply:
		return <-reply
	case <-c.done:
		return c.closeErr
	}
}

// loop is the only goroutine that touches the connection's state. Each select case is one
// event; after any event the conn's outbox is sent and its deliveries queued.
func (c *client) loop() {
	ticker := time.NewTicker(c.params.epoch())
	defer ticker.Stop()
	w := newWriter(c.udp, c.log)
	var (
		waiters  []chan error // Close calls waiting for the flush
		writes   = c.writes
		ticks    = ticker.C
		lost     bool
		drained  bool
		isClosed bool
	)
	w.send(c.core.outbox(), nil)
	for {
		var reads chan []byte
		var head []byte
		if len(c.queue) > 0 {
			reads, head = c.reads, c.queue[0]
		}
		select {
		case b := <-c.packets:
			c.receive(b)
			c.receiveQueued()
		case <-ticks:
			c.core.tick()
		case p := <-writes:
			c.core.write(p)
			// Writes already waiting join this event, so that what they let through the
			// window leaves in one batch.
			c.writeQueued(writes)
		case reads <- head:
			c.queue[0] = nil
			c.queue = c.queue[1:]
		case reply := <-c.closeReqs:
			waiters = append(waiters, reply)
			if !isClosed {
				isClosed = true
				close(c.closing)
				writes = nil
				c.core.close()
			}
		}
		// Hand payloads to Read before the socket writes. If any were delivered, let a
		// reader run first: an answer it writes at once joins the acks in one batch.
		if d := c.core.deliveries(); len(d) > 0 {
			c.queue = append(c.queue, d...)
			c.queue = pushReads(c.reads, c.queue)
			runtime.Gosched()
			c.writeQueued(writes)
		}
		w.send(c.core.outbox(), nil)
		if c.connID == 0 && !c.core.connecting && !c.core.lost {
			c.connID = c.core.id
			close(c.connected)
		}
		if c.core.lost && !lost {
			lost = true
			writes, ticks = nil, nil // a lost connection has nothing more to time
			close(c.lostCh)
			c.shutdownSocket()
		}
		if lost && len(c.queue) == 0 && !drained {
			drained = true
			close(c.drained)
		}
		if isClosed && (lost || c.core.done()) {
			if lost && !c.core.snd.idle() {
				c.closeErr = ErrConnLost
			}
			c.shutdownSocket()
			close(c.done)
			for _, w := range waiters {
				w <- c.closeErr
			}
			return
		}
	}
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

// receive feeds the conn the datagrams of b and gives b back to the reader.
func (c *client) receive(b *packets) {
	for _, pkt := range b.pkts {
		c.core.receive(pkt.msg)
	}
	recycle(c.free, b)
}

// receiveQueued feeds the conn the datagrams already waiting, up to about burst, without
// blocking.
func (c *client) receiveQueued() {
	for range burst / readBatch {
		select {
		case b := <-c.packets:
			c.receive(b)
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
