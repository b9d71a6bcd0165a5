//go:build linux

package kvserver

import (
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// The event loop waits the way that suits the runtime's number of Ps now, not the number it
// had at Start: GOMAXPROCS follows the CPUs the process may use, so pinning a running server
// to one CPU (taskset) changes it. With a single P the loop must park in the runtime's poller
// (a blocking epoll_wait would have the runtime's monitor take the P back after nearly every
// wait), and with more it must wait in epoll_wait on its own thread again. Not parallel: it
// sets GOMAXPROCS, which the tests that run in parallel do not meet (they start after it).
func TestLoopFollowsGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		start, then int
		parks       bool
	}{
		{start: 2, then: 1, parks: true},
		{start: 1, then: 2, parks: false},
	} {
		runtime.GOMAXPROCS(tc.start)
		s := NewServer(NewMemoryStore(), Config{})
		if err := s.Start(0); err != nil {
			t.Fatal(err)
		}
		c := dial(t, s)
		c.do("PING") // the loop has started and taken its way of waiting
		runtime.GOMAXPROCS(tc.then)
		// Round trips for several times the interval at which the loop looks at GOMAXPROCS.
		for start := time.Now(); time.Since(start) < 10*yieldEvery; { // real time: the loop looks every yieldEvery
			if got := c.do("PING"); got != "+PONG" {
				t.Fatalf("PING: %q", got)
			}
		}
		s.Close() // the loop has exited: its poller may be read
		if s.ep.locked == tc.parks || s.ep.parked != 1 {
			t.Errorf("GOMAXPROCS %d, then %d: the loop took to parking %d times and held its own thread at the end: %v; want once, and %v",
				tc.start, tc.then, s.ep.parked, s.ep.locked, !tc.parks)
		}
	}
}

// A connection that sends nothing costs the event loop little memory: no read buffer, no
// request batches, no read state, only its client record (a server may hold tens of thousands
// of quiet clients, and the collector marks all they hold). The test's own ends are raw
// sockets, which take no heap. Not parallel, so that other tests' heaps do not blur the count.
func TestIdleClientHeap(t *testing.T) {
	const n, limit = 1000, 512 // bytes per idle client
	s := NewServer(NewMemoryStore(), Config{})
	if err := s.Start(0); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	port := s.Addr().(*net.TCPAddr).Port
	s.Stats() // the loop is running
	before := testutil.LiveHeap()
	fds := make([]int, 0, n)
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()
	for range n {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
		if err := syscall.Connect(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
	}
	waitCounts(t, s, n, 0)
	per := (int64(testutil.LiveHeap()) - int64(before)) / n
	t.Logf("%d bytes of heap per idle client", per)
	if per > limit {
		t.Errorf("an idle client holds %d bytes of the server's heap, want at most %d", per, limit)
	}
}
