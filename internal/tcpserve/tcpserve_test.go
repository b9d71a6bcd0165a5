package tcpserve

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// flakyListener hands out the connections sent on conns, failing each Accept listed in fail
// first; Close makes Accept return net.ErrClosed.
type flakyListener struct {
	conns  chan net.Conn
	fail   chan error
	closed chan struct{}
	once   sync.Once
}

func newFlakyListener() *flakyListener {
	return &flakyListener{conns: make(chan net.Conn), fail: make(chan error, 16), closed: make(chan struct{})}
}

func (l *flakyListener) Accept() (net.Conn, error) {
	select {
	case err := <-l.fail:
		return nil, err
	default:
	}
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.fail:
		return nil, err
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *flakyListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *flakyListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// echo copies what the client sends back to it.
func echo(c net.Conn) { io.Copy(c, c) }

func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
		t.Fatalf("echo = %q, %v; want %q", buf, err, msg)
	}
}

func TestServerKeepsServingAfterAcceptErrors(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ln := newFlakyListener()
		s := Start(ln, echo, nil)
		defer s.Close()

		// Ten failing Accepts in a row (EMFILE), as when the process is out of descriptors.
		start := time.Now()
		for range 10 {
			ln.fail <- &net.OpError{Op: "accept", Err: syscall.EMFILE}
		}
		client, server := net.Pipe()
		ln.conns <- server
		defer client.Close()
		roundTrip(t, client, "still serving")
		// 5+10+20+...+1000 ms, then 1 s once the cap is reached: the loop waited, not spun.
		if waited := time.Since(start); waited < 2*time.Second {
			t.Errorf("accept loop retried ten failures in %v; want the back-off (>= 2 s)", waited)
		}

		// A success resets the back-off: the next failure costs 5 ms, not a second.
		ln.fail <- errors.New("transient")
		start = time.Now()
		c2, s2 := net.Pipe()
		ln.conns <- s2
		defer c2.Close()
		if d := time.Since(start); d > 10*time.Millisecond {
			t.Errorf("after a success the back-off was %v, want 5 ms", d)
		}
		roundTrip(t, c2, "again")
	})
}

func TestServerCloseEndsHandlersAndIsIdempotent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ln := newFlakyListener()
		handled := make(chan struct{})
		s := Start(ln, func(c net.Conn) {
			close(handled)
			io.Copy(io.Discard, c) // returns once Close closes c
		}, nil)
		client, server := net.Pipe()
		ln.conns <- server
		<-handled
		if err := s.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if _, err := client.Write([]byte("x")); err == nil {
			t.Error("the client's connection is still open after Close")
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close = %v", err)
		}
		// synctest.Test fails the test if any goroutine of the bubble is left running.
	})
}

func TestServerCloseDuringBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ln := newFlakyListener()
		s := Start(ln, echo, nil)
		for range 12 { // enough to reach the one-second cap
			ln.fail <- errors.New("no descriptors")
		}
		synctest.Wait()
		start := time.Now()
		s.Close()
		if d := time.Since(start); d != 0 {
			t.Errorf("Close waited %v for the back-off timer; want at once", d)
		}
	})
}

func TestServerOverRealTCP(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := Start(ln, echo, nil)
	defer s.Close()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "hello over loopback")
}
