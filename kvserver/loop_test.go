package kvserver

import (
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"

	"ds440/internal/testutil"
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
// (40 ms on Linux) before its Get leaves. Its rounds take turns with those of a client with
// TCP_NODELAY on the same server, so the load of a shared machine falls on both alike: the
// median Nagle round may not cost half a delayed ACK more than the median control round. A
// machine with many more runnable threads than cores can still stall most rounds of one side
// by tens of milliseconds (see TestSlowReader), while a held-back Get costs every Nagle round:
// the comparison is made up to three times and fails only if each trial shows the delay.
func TestNagleClientPutThenGet(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		const rounds = 30
		s := startServer(t, nil)
		nagle, control := dial(t, s), dial(t, s)
		if err := nagle.c.(*net.TCPConn).SetNoDelay(false); err != nil {
			t.Fatal(err)
		}
		next := 0
		round := func(c *testConn) time.Duration {
			next++
			v := strconv.Itoa(next)
			start := time.Now()
			c.write("Put:k" + v + ":" + v + "\n")
			c.write("Get:k" + v + "\n")
			if got := c.line(); got != "k"+v+":"+v {
				t.Fatalf("round %d: got %q", next, got)
			}
			return time.Since(start)
		}
		trial := func() (nagled, plain time.Duration) {
			return turnMedians(rounds, func() time.Duration { return round(nagle) }, func() time.Duration { return round(control) })
		}
		const trials = 3
		for i := 1; ; i++ {
			d, c := trial()
			if d-c <= 20*time.Millisecond {
				break
			}
			t.Logf("trial %d: median Put-then-Get round %v with Nagle's algorithm, %v without", i, d, c)
			if i == trials {
				t.Fatalf("median Put-then-Get round %v with Nagle's algorithm, %v without, in %d trials out of %d: the delayed ACK holds the Get back", d, c, trials, trials)
			}
		}
	})
}

// Random bytes on many connections at once, some closing mid-stream and some half-closing:
// the server never stalls or falls over, and a well-behaved client beside them is served.
func TestGarbage(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		s := startServer(t, nil)
		good := dial(t, s)
		rng := rand.New(rand.NewPCG(7, 11))
		const conns = 40
		for i := range conns {
			c := dial(t, s)
			junk := make([]byte, 1+rng.IntN(16<<10))
			for j := range junk {
				junk[j] = byte(rng.UintN(256))
			}
			if i%3 == 0 {
				junk[0] = '*' // a RESP client from then on
			}
			c.c.Write(junk) // the server may already have dropped it
			if i%2 == 0 {
				c.c.(*net.TCPConn).CloseWrite()
			} else {
				c.c.Close()
			}
			good.send("Put:g:" + strconv.Itoa(i))
		}
		good.send("Get:g")
		for i := range conns {
			if got, want := good.line(), "g:"+strconv.Itoa(i); got != want {
				t.Fatalf("line %d: %q, want %q", i, got, want)
			}
		}
		good.sync()
	})
}

// Ten thousand connections at once (fewer if the process may not open that many
// descriptors, and two thousand under the race detector unless soaking, where each costs ten
// times as much): all are served and counted, and all are counted as dropped once they close.
func TestTenThousandConnections(t *testing.T) {
	onLoops(t, func(t *testing.T) {
		n := 10000
		if testutil.RaceEnabled && !testutil.Soak() {
			n = 2000
		}
		limit, ok := testutil.OpenFileLimit()
		if ok && limit < 2*n+500 {
			n = (limit - 500) / 2 // the test holds both ends
		}
		if n < 1000 {
			t.Skipf("only %d descriptors may be open", limit)
		}
		s := startServer(t, nil)
		conns := make([]net.Conn, 0, n)
		t.Cleanup(func() {
			for _, c := range conns {
				c.Close()
			}
		})
		for range n {
			c, err := net.DialTimeout("tcp", s.Addr().String(), ioTimeout)
			if err != nil {
				t.Fatalf("dial %d: %v", len(conns), err)
			}
			conns = append(conns, c)
		}
		waitCounts(t, s, n, 0)
		for i, c := range conns {
			if _, err := c.Write([]byte("Put:many:" + strconv.Itoa(i) + "\n")); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		check := dial(t, s)
		// Each connection's Put may still be on its way: ask until all have arrived.
		want, got := ":"+strconv.Itoa(n), ""
		if !testutil.WaitUntil(ioTimeout, func() bool { got = check.do("LLEN", "many"); return got == want }) {
			t.Fatalf("LLEN many = %s, want %s", got, want)
		}
		for _, c := range conns {
			c.Close()
		}
		conns = conns[:0]
		waitCounts(t, s, 1, n)
	})
}
