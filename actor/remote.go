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

	mu  sync.Mutex
	box outbox
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
	r.mu.Lock()
	wasEmpty := r.box.len() == 0
	r.box.push(outMsg{env: wire.Envelope{To: to, Size: int32(size), Message: message}, due: departure()})
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
func (r *remoteSender) run() {
	var (
		client *link
		down   bool
		retry  = backoff{min: redialMin, max: redialMax}
		timer  = time.NewTimer(time.Hour)
		batch  []wire.Envelope
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
	for {
		r.mu.Lock()
		queued := r.box.len()
		var wait time.Duration
		if client != nil && queued > 0 {
			batch, wait = r.box.takeDue(time.Now(), maxBatchMessages, maxBatchBytes, batch[:0])
		}
		r.mu.Unlock()

		switch {
		case queued == 0 || (client != nil && len(batch) == 0):
			if !r.idle(wait, timer) {
				return
			}
		case client == nil:
			if d := retry.delay(rand.Float64()); d > 0 && !r.pause(d, timer) {
				return
			}
			c, err := r.dial()
			if err != nil {
				r.mu.Lock()
				n := r.box.dropAll() // told while the remote was down: not kept for later
				r.mu.Unlock()
				lost(n, err)
				continue
			}
			client = c
		default:
			err := r.send(client, batch)
			switch {
			case err == nil:
				retry.reset()
				if down {
					down = false
					r.sys.log().Info("actor: remote system reachable again", "remote", r.addr)
				}
			case errors.Is(err, ErrClosed):
				return
			default:
				lost(len(batch), err) // perhaps delivered, but never sent twice
				client.Close()
				client = nil
			}
			clear(batch)
		}
	}
}

// idle waits for a new message, for wait (if not 0) or for Close; false means Close.
func (r *remoteSender) idle(wait time.Duration, timer *time.Timer) bool {
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
	stop   func() bool // cancels the close-on-Close hook
}

func (r *remoteSender) dial() (*link, error) {
	ctx, cancel := context.WithTimeout(r.sys.ctx, dialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return nil, err
	}
	// net/rpc writes a request before Go returns; a peer that stops reading would hold the
	// sender in that write. Closing the connection on Close, and the write deadline in send,
	// are its ways out.
	stop := context.AfterFunc(r.sys.ctx, func() { conn.Close() })
	return &link{conn: conn, client: rpc.NewClient(conn), stop: stop}, nil
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
