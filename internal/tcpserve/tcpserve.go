// Package tcpserve is the one accept loop of ds440's TCP servers: every connection is served
// on its own goroutine and tracked so that Close can end it, and a failing Accept (out of file
// descriptors, say) is logged and retried after a back-off instead of ending the service.
//
// Servers that keep their own bookkeeping in one goroutine (kvserver) use Accept alone; the
// others use Server, which also tracks connections and waits for their handlers on Close.
package tcpserve

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// The back-off after a failed Accept starts at minBackoff and doubles up to maxBackoff; a
// successful Accept resets it.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// Accept calls ln.Accept until ln is closed or quit is closed, handing each connection to
// accepted on the calling goroutine. Any other Accept error is logged to log (which may be
// nil) and retried after the back-off. It returns once the loop has stopped.
func Accept(ln net.Listener, quit <-chan struct{}, log *slog.Logger, accepted func(net.Conn)) {
	backoff := minBackoff
	for {
		conn, err := ln.Accept()
		if err == nil {
			backoff = minBackoff
			accepted(conn)
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if log != nil {
			log.Warn("accept failed; retrying", "addr", ln.Addr().String(), "err", err, "retry_in", backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-quit:
			t.Stop()
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// Server serves every connection accepted on a listener with a handler, each on its own
// goroutine, until Close.
type Server struct {
	ln     net.Listener
	handle func(net.Conn)
	quit   chan struct{}
	wg     sync.WaitGroup // the accept loop and every handler

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// Start serves ln with handle, which owns its connection (it need not close it: Close and the
// handler's return both do). The server owns ln. log, which may be nil, hears of failing
// Accepts.
func Start(ln net.Listener, handle func(net.Conn), log *slog.Logger) *Server {
	s := &Server{ln: ln, handle: handle, quit: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	s.wg.Go(func() { Accept(ln, s.quit, log, s.serve) })
	return s
}

// Addr returns the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

func (s *Server) serve(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		conn.Close()
		return
	}
	s.conns[conn] = struct{}{}
	s.wg.Go(func() {
		defer func() {
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
			conn.Close()
		}()
		s.handle(conn)
	})
}

// Close stops accepting, closes every connection and waits until the accept loop and every
// handler have returned. It is safe to call more than once; later calls return nil.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.quit)
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}
