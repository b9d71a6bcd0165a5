package kvserver

import (
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// On Linux the event loop is the default path; PortableLoop takes the other.
func TestEventLoopIsTheDefaultOnLinux(t *testing.T) {
	t.Parallel()
	for _, portable := range []bool{false, true} {
		s := NewServer(NewMemoryStore(), Config{PortableLoop: portable})
		if err := s.Start(0); err != nil {
			t.Fatal(err)
		}
		polled := s.ep != nil
		s.Close()
		if want := runtime.GOOS == "linux" && !portable; polled != want {
			t.Errorf("PortableLoop %v: event loop %v, want %v", portable, polled, want)
		}
	}
}

// A client with Nagle's algorithm on (no TCP_NODELAY, as Python's or netcat's sockets) that
// sends a reply-less Put and then a Get must not wait for the server's delayed ACK of the Put
// (40 ms on Linux) before its Get leaves.
func TestNagleClientPutThenGet(t *testing.T) {
	t.Parallel()
	const rounds = 30
	s := startServer(t, nil)
	c := dial(t, s)
	if err := c.c.(*net.TCPConn).SetNoDelay(false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range rounds {
		v := strconv.Itoa(i)
		c.write("Put:k" + v + ":" + v + "\n")
		c.write("Get:k" + v + "\n")
		if got := c.line(); got != "k"+v+":"+v {
			t.Fatalf("round %d: got %q", i, got)
		}
	}
	// Every round stalls for the delayed ACK without quick ACKs; allow a loaded machine a
	// quarter of that.
	if d := time.Since(start); d > rounds*40*time.Millisecond/4 {
		t.Fatalf("%d Put-then-Get rounds took %v: the delayed ACK holds the Get back", rounds, d)
	}
}
