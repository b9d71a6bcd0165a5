package kvserver

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
)

// ioTimeout bounds every read and write a test client makes, so a server bug fails a test
// instead of hanging it.
const ioTimeout = 20 * time.Second

var loopFlag = flag.String("kvserver.loop", "all", "the server paths that tests of connection handling run on: event, event-writes, portable or all")

// The server paths: "event", the epoll loop as it is by default on Linux (sending a round's
// replies through an io_uring when the kernel offers one); "event-writes", the epoll loop
// without io_uring, writing each client's replies with a write of its own, as on a kernel that
// refuses io_uring; "portable", the goroutine-per-connection path (Config.PortableLoop).
var loopPaths = []string{"event", "event-writes", "portable"}

// onLoops runs body as a subtest on each server path the -kvserver.loop flag names. Tests
// whose outcome depends on how connections are served (reads, writes, slow readers, limits,
// bad input) run on every path; tests of commands and storage run once, on the path the flag
// names (the default path if it names all). The servers of startServer and startWith take the
// path of the subtest they are started in.
func onLoops(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	for _, loop := range loopPaths {
		if *loopFlag == "all" || *loopFlag == loop {
			t.Run(loop, body)
		}
	}
}

// pathFor returns the server path of the servers of test tb: in an onLoops subtest, its
// path; elsewhere, the one the flag names, or "event" if it names all.
func pathFor(tb testing.TB) string {
	for name := tb.Name(); name != ""; {
		var elem string
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name, elem = name[:i], name[i+1:]
		} else {
			name, elem = "", name
		}
		if slices.Contains(loopPaths, elem) {
			return elem
		}
	}
	if *loopFlag == "all" {
		return "event"
	}
	return *loopFlag
}

// newServerFor returns a server for store with cfg, set up for the server path of test tb.
func newServerFor(tb testing.TB, store KVStore, cfg Config) *Server {
	path := pathFor(tb)
	cfg.PortableLoop = cfg.PortableLoop || path == "portable"
	s := NewServer(store, cfg)
	s.noRing = path == "event-writes"
	return s
}

// startServer starts a server on a free port with store (nil: a memory store) and closes it
// when the test ends.
func startServer(tb testing.TB, store KVStore) *Server {
	tb.Helper()
	if store == nil {
		store = NewMemoryStore()
	}
	s := newServerFor(tb, store, Config{})
	if err := s.Start(0); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// testConn is a raw client connection; it speaks either protocol.
type testConn struct {
	tb testing.TB
	c  net.Conn
	r  *bufio.Reader
}

func dial(tb testing.TB, s *Server) *testConn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", s.Addr().String(), ioTimeout)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return &testConn{tb: tb, c: c, r: bufio.NewReaderSize(c, 64<<10)}
}

// write sends raw bytes.
func (c *testConn) write(s string) {
	c.tb.Helper()
	c.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.c, s); err != nil {
		c.tb.Fatalf("write: %v", err)
	}
}

// send sends text-protocol lines.
func (c *testConn) send(lines ...string) {
	c.tb.Helper()
	c.write(strings.Join(lines, "\n") + "\n")
}

// line reads one text reply line (without its "\n").
func (c *testConn) line() string {
	c.tb.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.tb.Fatalf("reading a line: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\n")
}

// lines reads n reply lines.
func (c *testConn) lines(n int) []string {
	c.tb.Helper()
	out := make([]string, n)
	for i := range out {
		out[i] = c.line()
	}
	return out
}

// sync proves that every reply to what was sent before has been read: it asks for a marker
// only it can produce and expects that marker next.
func (c *testConn) sync() {
	c.tb.Helper()
	c.send("Put:sync-marker:here", "Get:sync-marker", "Delete:sync-marker")
	if l := c.line(); l != "sync-marker:here" {
		c.tb.Fatalf("got %q where only the sync marker was expected", l)
	}
}

// farewell reads the line a dropped client is sent before the server closes it, or "" if
// the close overtook it: closing a socket with unread input resets the connection, and a
// reset may discard the line. Either is a correct drop.
func (c *testConn) farewell() string {
	c.tb.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	l, err := c.r.ReadString('\n')
	if err != nil && err != io.EOF && !isReset(err) {
		c.tb.Fatalf("waiting for the server to drop the client: %v", err)
	}
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(l, "\n")
}

// expectEOF waits for the server to close the connection, skipping whatever it sent before.
func (c *testConn) expectEOF() {
	c.tb.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	if _, err := io.Copy(io.Discard, c.r); err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		c.tb.Fatalf("waiting for the server to close: %v", err)
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "connection reset") }

// do sends one RESP command and returns its reply rendered by reply.
func (c *testConn) do(args ...string) string {
	c.tb.Helper()
	c.write(frame(args...))
	return c.reply()
}

// reply reads one RESP reply and renders it compactly: "+OK", "-ERR msg", ":3", a bulk string
// as its quoted value, "nil", and arrays as "[a b]".
func (c *testConn) reply() string {
	c.tb.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	s, err := readReply(c.r)
	if err != nil {
		c.tb.Fatalf("reading a reply: %v", err)
	}
	return s
}

func readReply(r *bufio.Reader) (string, error) {
	l, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(l, "\r\n") || len(l) < 3 {
		return "", fmt.Errorf("malformed reply line %q", l)
	}
	l = l[:len(l)-2]
	switch l[0] {
	case '+', '-', ':':
		return l, nil
	case '$':
		n, err := strconv.Atoi(l[1:])
		if err != nil {
			return "", err
		}
		if n < 0 {
			return "nil", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return strconv.Quote(string(buf[:n])), nil
	case '*':
		n, err := strconv.Atoi(l[1:])
		if err != nil {
			return "", err
		}
		parts := make([]string, n)
		for i := range parts {
			if parts[i], err = readReply(r); err != nil {
				return "", err
			}
		}
		return "[" + strings.Join(parts, " ") + "]", nil
	}
	return "", fmt.Errorf("unknown reply type in %q", l)
}

// waitCounts waits until the server reports active and dropped clients, then checks that
// neither moves past them.
func waitCounts(tb testing.TB, s *Server, active, dropped int) {
	tb.Helper()
	var st Stats
	ok := testutil.WaitUntil(ioTimeout, func() bool {
		st = s.Stats()
		return st.Active == active && st.Dropped == dropped
	})
	if !ok {
		tb.Fatalf("counts: active %d dropped %d, want %d and %d", st.Active, st.Dropped, active, dropped)
	}
	if a, d := s.CountActive(), s.CountDropped(); a != active || d != dropped {
		tb.Fatalf("counts moved on to active %d dropped %d, want %d and %d", a, d, active, dropped)
	}
}

// turnMedians runs a and b n times each, taking turns (a first in even rounds, b first in
// odd ones) so that a change of load on a shared machine falls on both alike, and returns the
// median duration of each.
func turnMedians(n int, a, b func() time.Duration) (ma, mb time.Duration) {
	as, bs := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for i := range n {
		if i%2 == 0 {
			as = append(as, a())
			bs = append(bs, b())
		} else {
			bs = append(bs, b())
			as = append(as, a())
		}
	}
	slices.Sort(as)
	slices.Sort(bs)
	return as[n/2], bs[n/2]
}

// bulks reads n bulk-string replies, each value, failing the test at the first that is not.
func (c *testConn) bulks(n int, value string) {
	c.tb.Helper()
	want := "$" + strconv.Itoa(len(value)) + "\r\n" + value + "\r\n"
	got := make([]byte, len(want))
	for i := range n {
		if _, err := io.ReadFull(c.r, got); err != nil || string(got) != want {
			c.tb.Fatalf("reply %d: %.20q, %v", i, got, err)
		}
	}
}
