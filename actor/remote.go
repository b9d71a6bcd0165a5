package actor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/rpc"
	"sync"
	"time"

	"ds440/actor/internal/wire"
)

// Limits of the remote path. A batch is one RPC: bounded so one call stays short and a broken
// connection loses little; the timeouts turn a peer that hangs into a peer that is down.
const (
	maxBatchMessages = 4096
	maxBatchBytes    = 1 << 20
	dialTimeout      = 2 * time.Second
	callTimeout      = 15 * time.Second
	redialMin        = 50 * time.Millisecond
	redialMax        = time.Second
)

// remoteSender owns the connection to one remote system. Tells append to its outbox and
// return at once; its goroutine sends what is queued as one batch per RPC, one RPC at a time,
// so messages arrive in the order they were told. While a call is in flight new messages pile
// up and leave together in the next batch: the busier the link, the bigger the batches.
type remoteSender struct {
	sys  *ActorSystem
	addr string
	wake chan struct{} // capacity 1: "the outbox went from empty to not empty"

	mu        sync.Mutex
	box       outbox
	inflight  int  // messages taken from box and not yet acknowledged or counted lost
	connected bool // a connection is up, as far as the sender knows
}

// remote returns the sender for addr, starting it on first use; nil once the system is closed.
func (s *ActorSystem) remote(addr string) *remoteSender {
	if r, ok := s.remotes.Load(addr); ok {
		return r.(*remoteSender)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if r, ok := s.remotes.Load(addr); ok {
		return r.(*remoteSender)
	}
	r := &remoteSender{sys: s, addr: addr, wake: make(chan struct{}, 1)}
	s.remotes.Store(addr, r)
	s.wg.Go(r.run)
	return r
}

func (r *remoteSender) enqueue(to int, message any, size int) {
	due, lost := r.sys.departure(r.addr)
	if lost {
		r.sys.stats.undelivered.Add(1)
		return
	}
	r.mu.Lock()
	wasEmpty := r.box.len() == 0
	r.box.push(outMsg{env: wire.Envelope{To: to, Size: int32(size), Message: message}, due: due})
	r.mu.Unlock()
	if wasEmpty {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// run is the sender's goroutine: connect when there is something to send, send due messages
// in batches, and on failure count what was lost and redial with backoff. An outage is
// reported and logged once, when it starts, and logged again when a call succeeds.
//
// A batch is counted lost once it may have been written. If net/rpc refuses the call because
// the connection had already failed (rpc.ErrShutdown: nothing was written), the batch is kept
// and sent first on the next connection, once: so a peer that restarted while the sender was
// idle loses nothing told after the restart.
func (r *remoteSender) run() {
	var (
		client  *link
		down    bool
		retry   = backoff{min: redialMin, max: redialMax}
		timer   = time.NewTimer(time.Hour)
		batch   []wire.Envelope // taken from the outbox and not yet sent, or being sent
		retried bool            // batch was refused unsent once already
	)
	timer.Stop()
	defer func() {
		timer.Stop()
		if client != nil {
			client.Close()
		}
	}()
	lost := func(n int, err error) {
		r.sys.stats.undelivered.Add(int64(n))
		retry.fail()
		if !down {
			down = true
			r.sys.report(fmt.Errorf("%w: %s: %v", ErrRemoteUnreachable, r.addr, err))
			r.sys.log().Warn("actor: remote system unreachable", "remote", r.addr, "err", err)
		}
	}
	setClient := func(c *link) {
		if client != nil {
			client.Close()
		}
		client = c
		r.mu.Lock()
		r.connected = c != nil
		r.mu.Unlock()
	}
	setBatch := func(b []wire.Envelope) {
		batch, retried = b, false
		r.mu.Lock()
		r.inflight = len(b)
		r.mu.Unlock()
	}
	for {
		if client == nil {
			if len(batch) == 0 && r.pending() == 0 {
				if !r.idle(0, timer, nil) {
					return
				}
				continue
			}
			if d := retry.delay(rand.Float64()); d > 0 && !r.pause(d, timer) {
				return
			}
			c, err := r.dial()
			if err != nil {
				r.mu.Lock()
				n := r.box.dropAll() // told while the remote was down: not kept for later
				r.mu.Unlock()
				lost(n+len(batch), err)
				clear(batch)
				setBatch(batch[:0])
				continue
			}
			setClient(c)
		}
		select {
		case <-client.broken: // closed by the peer while idle: nothing was lost, dial afresh
			retry.fail() // at once the first time, backed off if the peer keeps doing it
			setClient(nil)
			continue
		default:
		}
		if len(batch) == 0 {
			r.mu.Lock()
			next, wait := r.box.takeDue(time.Now(), maxBatchMessages, maxBatchBytes, batch[:0])
			r.mu.Unlock()
			setBatch(next)
			if len(batch) == 0 {
				if !r.idle(wait, timer, client.broken) {
					return
				}
				continue
			}
		}
		err := r.send(client, batch)
		switch {
		case err == nil:
			retry.reset()
			if down {
				down = false
				r.sys.log().Info("actor: remote system reachable again", "remote", r.addr)
			}
			clear(batch)
			setBatch(batch[:0])
		case errors.Is(err, ErrClosed):
			return
		case errors.Is(err, rpc.ErrShutdown) && !retried:
			retry.fail() // a peer that keeps closing connections is backed off all the same
			retried = true
			setClient(nil)
		default:
			lost(len(batch), err) // perhaps delivered, but never sent twice
			clear(batch)
			setBatch(batch[:0])
			setClient(nil)
		}
	}
}

// isConnected reports whether the sender has a connection it believes alive.
func (r *remoteSender) isConnected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connected
}

// pending returns the messages queued or in the call under way.
func (r *remoteSender) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.box.len() + r.inflight
}

// idle waits for a new message, for wait (if not 0), for the connection to break (if broken is
// not nil) or for Close; false means Close.
func (r *remoteSender) idle(wait time.Duration, timer *time.Timer, broken <-chan struct{}) bool {
	var due <-chan time.Time
	if wait > 0 {
		timer.Reset(wait)
		due = timer.C
		defer timer.Stop()
	}
	select {
	case <-r.wake:
		return true
	case <-due:
		return true
	case <-broken:
		return true
	case <-r.sys.done:
		return false
	}
}

// pause waits d or for Close, ignoring new messages: they wait for the next dial.
func (r *remoteSender) pause(d time.Duration, timer *time.Timer) bool {
	timer.Reset(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.sys.done:
		return false
	}
}

// link is a connection to the remote system.
type link struct {
	conn   net.Conn
	client *rpc.Client
	stop   func() bool   // cancels the close-on-Close hook
	broken chan struct{} // closed when a read fails: the peer closed or the connection died
}

// watchedConn closes broken when a read fails. Only the rpc client's reader reads, so an idle
// sender learns at once that its peer went away and dials afresh for the next message instead
// of writing it into a dead connection.
type watchedConn struct {
	net.Conn
	broken chan struct{}
	once   sync.Once
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.once.Do(func() { close(c.broken) })
	}
	return n, err
}

func (r *remoteSender) dial() (*link, error) {
	ctx, cancel := context.WithTimeout(r.sys.ctx, dialTimeout)
	defer cancel()
	conn, err := r.sys.transport.Dial(ctx, r.addr)
	if err != nil {
		return nil, err
	}
	// net/rpc writes a request before Go returns; a peer that stops reading would hold the
	// sender in that write. Closing the connection on Close, and the write deadline in send,
	// are its ways out.
	stop := context.AfterFunc(r.sys.ctx, func() { conn.Close() })
	wc := &watchedConn{Conn: conn, broken: make(chan struct{})}
	return &link{conn: conn, client: rpc.NewClient(wc), stop: stop, broken: wc.broken}, nil
}

// Close closes the connection.
func (l *link) Close() {
	l.stop()
	l.client.Close()
}

// send makes one Deliver call and waits for its answer, a timeout or Close (ErrClosed).
func (r *remoteSender) send(l *link, batch []wire.Envelope) error {
	l.conn.SetWriteDeadline(time.Now().Add(callTimeout))
	call := l.client.Go(wire.Method, &wire.Batch{From: r.sys.addr, Messages: batch}, &wire.Ack{}, make(chan *rpc.Call, 1))
	timeout := time.NewTimer(callTimeout)
	defer timeout.Stop()
	select {
	case <-call.Done:
		return call.Error
	case <-timeout.C:
		return fmt.Errorf("no answer within %v", callTimeout)
	case <-r.sys.done:
		return ErrClosed
	}
}
