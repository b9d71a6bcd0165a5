//go:build linux

package kvserver

import (
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"ds440/internal/testutil"
	"ds440/kvserver/internal/rawio"
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

// On Linux the event loop sends through an io_uring when the kernel offers one, and without
// one when the tests take the write path.
func TestRingIsTheDefault(t *testing.T) {
	t.Parallel()
	for _, noRing := range []bool{false, true} {
		s := NewServer(NewMemoryStore(), Config{})
		s.noRing = noRing
		if err := s.Start(0); err != nil {
			t.Fatal(err)
		}
		ring, ringErr := s.ep.ring != nil, s.ep.ringErr
		s.Close()
		if errors.Is(ringErr, rawio.ErrNoUring) {
			t.Skip(ringErr)
		}
		if ring == noRing || ringErr != nil {
			t.Errorf("noRing %v: ring %v (%v)", noRing, ring, ringErr)
		}
	}
}

// gateStore is a memory store whose Put of a key that starts with "gate" holds the server's
// loop until the test opens that gate, so that the requests the test sends meanwhile are all
// waiting when the loop goes on, and are read, run and answered in one round.
type gateStore struct {
	KVStore
	entered chan chan struct{} // a Put of a gate has started, and waits until this is closed
}

func newGateStore() *gateStore {
	return &gateStore{KVStore: NewMemoryStore(), entered: make(chan chan struct{}, 1)}
}

func (g *gateStore) Put(key string, value []byte) {
	if strings.HasPrefix(key, "gate") {
		open := make(chan struct{})
		g.entered <- open
		<-open
	}
	g.KVStore.Put(key, value)
}

// hold sends the request that stops the loop at a gate, on a connection of its own, and
// returns once the loop is there; open lets it go on.
func (g *gateStore) hold(t *testing.T, s *Server) (open func()) {
	t.Helper()
	c := dial(t, s)
	c.write(frame("SET", "gate", "1"))
	gate := testutil.Recv(t, g.entered, ioTimeout)
	opened := false
	t.Cleanup(func() { // a test that fails before it opens the gate must not hang Close
		if !opened {
			close(gate)
		}
	})
	return func() {
		opened = true
		close(gate)
		if r := c.reply(); r != "+OK" {
			t.Fatalf("SET gate: %q", r)
		}
	}
}

// delivered waits until the server's kernel has acknowledged everything c sent: the requests
// are in the server's socket buffer, for the loop to read in its next round.
func delivered(t *testing.T, c *testConn) {
	t.Helper()
	rc, err := c.c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, ioTimeout, func() bool {
		var unacked int32 = -1
		rc.Control(func(fd uintptr) {
			syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&unacked)))
		})
		return unacked == 0
	}, "the server never acknowledged the requests")
}

// eventPaths runs body on both event-loop paths, with the ring and with a write per client.
func eventPaths(t *testing.T, body func(t *testing.T, ring bool)) {
	for _, path := range loopPaths[:2] {
		if *loopFlag == "all" || *loopFlag == path {
			t.Run(path, func(t *testing.T) {
				t.Parallel()
				body(t, path == "event")
			})
		}
	}
}

// ringUsed checks, once s is closed, that its reads and sends went through the ring on the ring path
// (and short ones among them, if short) and never on the other.
func ringUsed(t *testing.T, s *Server, ring, short bool) {
	t.Helper()
	p := s.ep
	if errors.Is(p.ringErr, rawio.ErrNoUring) {
		t.Skip(p.ringErr)
	}
	switch {
	case !ring && (p.sendRounds != 0 || p.recvRounds != 0):
		t.Errorf("%d rounds of sends and %d of reads went through the ring on the write path", p.sendRounds, p.recvRounds)
	case ring && (p.sendRounds == 0 || p.recvRounds == 0):
		t.Errorf("%d rounds of sends and %d of reads went through the ring, want some of each", p.sendRounds, p.recvRounds)
	case ring && short && p.sendShort == 0:
		t.Error("no send through the ring came back short")
	}
}

// A client that reads slowly, answered in the same round as others, gets a short send through
// the ring; the rest of its replies wait for its socket to take them, as after a short write,
// while the others are answered; once it reads, every reply arrives, whole and in order.
func TestRingSlowReader(t *testing.T) {
	t.Parallel()
	eventPaths(t, func(t *testing.T, ring bool) {
		g := newGateStore()
		// A soft limit above the replies asked for: they are all built in one round, and
		// more than the socket takes.
		s := startOnPath(t, g, Config{OutputSoftLimit: 64 << 20}, ring)
		value := strings.Repeat("v", 64<<10)
		if r := dial(t, s).do("SET", "big", value); r != "+OK" {
			t.Fatal(r)
		}
		slow := dial(t, s)
		slow.c.(*net.TCPConn).SetReadBuffer(64 << 10)
		fast := []*testConn{dial(t, s), dial(t, s)}
		const n = 300 // 19 MB of replies
		open := g.hold(t, s)
		slow.write(strings.Repeat(frame("GET", "big"), n))
		for _, c := range fast {
			c.write(strings.Repeat(frame("PING"), 10))
		}
		for _, c := range append(fast, slow) {
			delivered(t, c)
		}
		open()
		for _, c := range fast {
			for range 10 {
				if r := c.reply(); r != "+PONG" {
					t.Fatalf("PING beside a slow reader: %q", r)
				}
			}
		}
		slow.c.SetReadDeadline(time.Now().Add(ioTimeout))
		slow.bulks(n, value)
		if r := slow.do("PING"); r != "+PONG" {
			t.Fatalf("PING after the slow replies: %q", r)
		}
		if st := s.Stats(); st.Throttled != 0 || st.OverLimit != 0 || st.OutputBytes != 0 {
			t.Fatalf("after reading: %+v", st)
		}
		s.Close()
		ringUsed(t, s, ring, true)
	})
}

// A client whose reply exceeds the hard output limit is dropped in a round whose other replies
// go out through the ring: none of its replies is sent, the others get theirs.
func TestRingOutputLimitDrop(t *testing.T) {
	t.Parallel()
	eventPaths(t, func(t *testing.T, ring bool) {
		g := newGateStore()
		s := startOnPath(t, g, Config{OutputSoftLimit: 64 << 10, OutputHardLimit: 1 << 20}, ring)
		setup := dial(t, s)
		value := strings.Repeat("h", 512<<10)
		for range 4 {
			if r := setup.do("RPUSH", "l", value); r[0] != ':' {
				t.Fatal(r)
			}
		}
		if r := setup.do("SET", "k", "v"); r != "+OK" {
			t.Fatal(r)
		}
		big, others := dial(t, s), []*testConn{dial(t, s), dial(t, s)}
		waitCounts(t, s, 4, 0)
		open := g.hold(t, s)
		big.write(frame("LRANGE", "l", "0", "-1"))
		for _, c := range others {
			c.write(frame("GET", "k") + frame("PING"))
		}
		for _, c := range append(others, big) {
			delivered(t, c)
		}
		open()
		for _, c := range others {
			if r, r2 := c.reply(), c.reply(); r != `"v"` || r2 != "+PONG" {
				t.Fatalf("replies beside a dropped client: %q, %q", r, r2)
			}
		}
		big.c.SetReadDeadline(time.Now().Add(ioTimeout))
		if n, err := io.Copy(io.Discard, big.r); n != 0 || (err != nil && !isReset(err)) {
			t.Fatalf("the dropped client read %d bytes, then %v; want none, then the end", n, err)
		}
		waitCounts(t, s, 4, 1)
		if st := s.Stats(); st.OverLimit != 1 || st.OutputBytes != 0 {
			t.Fatalf("%+v", st)
		}
		s.Close()
		ringUsed(t, s, ring, false)
	})
}

// Clients whose pipelined requests arrive together are read in one round, through the ring on
// its path, each into a share of the loop's buffer that ends in the middle of a request: every
// request is still run whole and in order, and every reply goes to its client.
func TestRingReadsPipelined(t *testing.T) {
	t.Parallel()
	eventPaths(t, func(t *testing.T, ring bool) {
		g := newGateStore()
		s := startOnPath(t, g, Config{}, ring)
		// 55 KB or so of requests each: more than a share of the arena, less than the
		// kernel's socket buffers hold while the loop is at the gate.
		const clients, n = 8, 500
		conns := make([]*testConn, clients)
		for i := range conns {
			conns[i] = dial(t, s)
		}
		value := func(i, j int) string { return strconv.Itoa(i) + ":" + strings.Repeat("v", j%97) }
		open := g.hold(t, s)
		for i, c := range conns {
			var b strings.Builder
			for j := range n {
				k := "k" + strconv.Itoa(i) + "-" + strconv.Itoa(j)
				b.WriteString(frame("SET", k, value(i, j)) + frame("GET", k))
			}
			c.write(b.String())
		}
		for _, c := range conns {
			delivered(t, c)
		}
		open()
		for i, c := range conns {
			for j := range n {
				if r, r2 := c.reply(), c.reply(); r != "+OK" || r2 != strconv.Quote(value(i, j)) {
					t.Fatalf("client %d, request %d: %q, %q", i, j, r, r2)
				}
			}
		}
		s.Close()
		ringUsed(t, s, ring, false)
	})
}

// A partial request read in a round of several clients is kept by its client while the next
// round's clients read into the loop's buffers: when the rest arrives, the request is whole.
func TestRingReadsKeepPartials(t *testing.T) {
	t.Parallel()
	eventPaths(t, func(t *testing.T, ring bool) {
		g := newGateStore()
		s := startOnPath(t, g, Config{}, ring)
		const clients = 8
		halves, others := make([]*testConn, clients), make([]*testConn, clients)
		for i := range clients {
			halves[i], others[i] = dial(t, s), dial(t, s)
		}
		req := func(i int) string { return frame("SET", "half"+strconv.Itoa(i), strings.Repeat("h", 100+i)) }
		// Round one: half a request from each of the first clients.
		open := g.hold(t, s)
		for i, c := range halves {
			c.write(req(i)[:len(req(i))/2])
			delivered(t, c)
		}
		open()
		// Round two: whole requests from the others, read where the halves were.
		open = g.hold(t, s)
		for i, c := range others {
			c.write(frame("SET", "other"+strconv.Itoa(i), strings.Repeat("o", 100)))
			delivered(t, c)
		}
		open()
		for _, c := range others {
			if r := c.reply(); r != "+OK" {
				t.Fatalf("SET: %q", r)
			}
		}
		for i, c := range halves {
			c.write(req(i)[len(req(i))/2:] + frame("GET", "half"+strconv.Itoa(i)))
			if r, r2 := c.reply(), c.reply(); r != "+OK" || r2 != strconv.Quote(strings.Repeat("h", 100+i)) {
				t.Fatalf("client %d: %q, %q", i, r, r2)
			}
		}
		s.Close()
		ringUsed(t, s, ring, false)
	})
}

// startOnPath starts a server on store with cfg on the event loop, through the ring or not,
// and closes it when the test ends (Close may come sooner: it is idempotent).
func startOnPath(t *testing.T, store KVStore, cfg Config, ring bool) *Server {
	t.Helper()
	s := newServerFor(t, store, cfg)
	s.noRing = !ring
	if err := s.Start(0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
