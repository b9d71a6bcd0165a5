// Package tcpservetest helps test that a server built on tcpserve keeps serving when Accept
// fails for a while (out of file descriptors, say): a listener that fails the Accepts it is
// told to before accepting for real.
package tcpservetest

import (
	"net"
	"sync"
	"syscall"
)

// ErrTemporary is the Accept error a Listener returns by default: EMFILE, as when the process
// is out of file descriptors.
var ErrTemporary error = &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}

// Listener wraps a net.Listener; its next Accepts fail with the errors queued by Fail.
type Listener struct {
	net.Listener

	mu     sync.Mutex
	queued []error
	failed int
}

// Wrap returns a Listener around ln whose first n Accepts fail with ErrTemporary.
func Wrap(ln net.Listener, n int) *Listener {
	l := &Listener{Listener: ln}
	l.Fail(ErrTemporary, n)
	return l
}

// Fail makes the next n Accepts that have not begun waiting return err. An Accept already
// waiting for a connection is not interrupted.
func (l *Listener) Fail(err error, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range n {
		l.queued = append(l.queued, err)
	}
}

// Failed returns how many Accepts have failed so far.
func (l *Listener) Failed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// Accept returns the first queued error, if any, else the wrapped listener's next connection.
func (l *Listener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.queued) > 0 {
		err := l.queued[0]
		l.queued = l.queued[1:]
		l.failed++
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}
