package kvserver

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
)

func TestRESPCommands(t *testing.T) {
	testutil.CheckGoroutines(t)
	s := startServer(t, nil)
	c := dial(t, s)
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "+PONG"},
		{[]string{"ping", "hello"}, `"hello"`},
		{[]string{"ECHO", "a\r\nb"}, `"a\r\nb"`},
		{[]string{"COMMAND", "DOCS"}, "[]"},
		{[]string{"CONFIG", "GET", "save"}, "[]"},
		{[]string{"GET", "k"}, "nil"},
		{[]string{"LRANGE", "k", "0", "-1"}, "[]"},
		{[]string{"SET", "k", "v1"}, "+OK"},
		{[]string{"GET", "k"}, `"v1"`},
		{[]string{"RPUSH", "k", "v2", "v3"}, ":3"},
		{[]string{"GET", "k"}, `"v3"`},
		{[]string{"LRANGE", "k", "0", "-1"}, `["v1" "v2" "v3"]`},
		{[]string{"LRANGE", "k", "-2", "-1"}, `["v2" "v3"]`},
		{[]string{"LRANGE", "k", "1", "1"}, `["v2"]`},
		{[]string{"LRANGE", "k", "5", "10"}, "[]"},
		{[]string{"LPUSH", "k", "v0"}, ":4"},
		{[]string{"LLEN", "k"}, ":4"},
		{[]string{"KVUPDATE", "k", "v2", "new"}, "+OK"},
		{[]string{"LRANGE", "k", "0", "-1"}, `["v0" "v1" "new" "v3"]`},
		{[]string{"SET", "e", ""}, "+OK"},
		{[]string{"GET", "e"}, `""`},
		{[]string{"EXISTS", "k", "e", "nope"}, ":2"},
		{[]string{"DBSIZE"}, ":2"},
		{[]string{"DEL", "k", "nope"}, ":1"},
		{[]string{"GET", "k"}, "nil"},
		{[]string{"FLUSHALL"}, "+OK"},
		{[]string{"DBSIZE"}, ":0"},
		{[]string{"SELECT", "0"}, "+OK"},
		{[]string{"HGETALLX", "h"}, `-ERR unknown command 'HGETALLX', with args beginning with: 'h' `},
		{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command"},
		{[]string{"LRANGE", "k", "a", "b"}, "-ERR value is not an integer or out of range"},
		{[]string{"PING"}, "+PONG"}, // still connected after errors
	}
	for _, st := range steps {
		if got := c.do(st.args...); got != st.want {
			t.Errorf("%q = %s, want %s", st.args, got, st.want)
		}
	}
	if got := c.do("QUIT"); got != "+OK" {
		t.Errorf("QUIT = %s", got)
	}
	c.expectEOF()
	waitCounts(t, s, 0, 1)
}

// Both protocols share one store: RPUSH is Put, LRANGE is Get.
func TestRESPAndTextShareTheStore(t *testing.T) {
	s := startServer(t, nil)
	text, resp := dial(t, s), dial(t, s)
	text.send("Put:k:a", "Put:k:b:c")
	text.sync()
	if got := resp.do("LRANGE", "k", "0", "-1"); got != `["a" "b:c"]` {
		t.Fatalf("LRANGE = %s", got)
	}
	resp.do("RPUSH", "k", "d")
	text.send("Get:k")
	if got := text.lines(3); got[2] != "k:d" {
		t.Fatalf("Get = %q", got)
	}
}

// Pipelined requests, written all at once, are answered in order.
func TestRESPPipelining(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		const n = 2000
		s := startServer(t, nil)
		c := dial(t, s)
		var b strings.Builder
		for i := range n {
			switch i % 3 {
			case 0:
				b.WriteString(frame("SET", "k"+strconv.Itoa(i), "v"+strconv.Itoa(i)))
			case 1:
				b.WriteString(frame("GET", "k"+strconv.Itoa(i-1)))
			case 2:
				b.WriteString(frame("RPUSH", "list", strconv.Itoa(i)))
			}
		}
		c.write(b.String())
		for i := range n {
			want := map[int]string{0: "+OK", 1: strconv.Quote("v" + strconv.Itoa(i-1)), 2: ":" + strconv.Itoa(i/3+1)}[i%3]
			if got := c.reply(); got != want {
				t.Fatalf("reply %d = %s, want %s", i, got, want)
			}
		}
	})
}

// A value of 3 MiB, past the text protocol's line limit, arrives over many reads and is stored
// whole: RESP takes values up to 512 MiB, as Redis does.
func TestRESPLargeValue(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		s := startServer(t, nil)
		c := dial(t, s)
		v := strings.Repeat("0123456789abcdef", 3*MaxLine/16)
		if got := c.do("SET", "big", v); got != "+OK" {
			t.Fatalf("SET = %s", got)
		}
		// The reply compared as it comes, without rendering 3 MiB through strconv.Quote.
		c.write(frame("GET", "big"))
		want := "$" + strconv.Itoa(len(v)) + "\r\n" + v + "\r\n"
		got := make([]byte, len(want))
		c.c.SetReadDeadline(time.Now().Add(ioTimeout))
		if _, err := io.ReadFull(c.r, got); err != nil || string(got) != want {
			t.Fatalf("GET returned %.40q (%d bytes), %v", got, len(got), err)
		}
	})
}

// Malformed RESP gets a protocol error and closes that client only.
func TestRESPMalformed(t *testing.T) {
	onLoops(t, func(t *testing.T) {
		testutil.CheckGoroutines(t)
		s := startServer(t, nil)
		other := dial(t, s)
		other.do("SET", "k", "v")
		cases := []struct{ name, in string }{
			{"bad count", "*x\r\n"},
			{"negative count", "*-1\r\n"},
			{"negative bulk", "*1\r\n$-5\r\n"},
			{"bad bulk length", "*1\r\n$1x\r\nP\r\n"},
			{"missing CRLF", "*1\r\n$2\r\nPING\r\n"},
			{"not a bulk", "*1\r\n:1\r\n"},
			{"bulk too long", fmt.Sprintf("*2\r\n$3\r\nSET\r\n$%d\r\n", maxBulk+1)},
			{"absurd count", "*99999999999\r\n"},
		}
		for i, tc := range cases {
			c := dial(t, s)
			c.write(tc.in)
			got := c.reply()
			if !strings.HasPrefix(got, "-ERR Protocol error") {
				t.Errorf("%s: reply %s, want a protocol error", tc.name, got)
			}
			c.expectEOF()
			waitCounts(t, s, 1, i+1)
			if got := other.do("GET", "k"); got != `"v"` {
				t.Fatalf("after %s the other client got %s", tc.name, got)
			}
		}

		// A truncated frame followed by a disconnect: nothing is executed, the client is counted.
		c := dial(t, s)
		c.write("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvv")
		c.c.Close()
		waitCounts(t, s, 1, len(cases)+1)
		if got := other.do("GET", "k"); got != `"v"` {
			t.Fatalf("a truncated SET was executed: GET = %s", got)
		}
	})
}

// A RESP client that does not read its replies is throttled, not disconnected and never
// short of a reply, even if it half-closes with requests still held; others are unaffected.
func TestRESPSlowReaderThrottled(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		const gets = 3000
		s := startServer(t, nil)
		fast := dial(t, s)
		value := strings.Repeat("b", 16<<10)
		fast.do("SET", "big", value)
		slow := dial(t, s)
		slow.write(strings.Repeat(frame("GET", "big"), gets) + frame("SET", "after", "yes"))
		slow.c.(*net.TCPConn).CloseWrite()
		for range 100 {
			if got := fast.do("GET", "after"); got != "nil" {
				t.Fatalf("the slow client's requests ran past its full queue: GET after = %s", got)
			}
		}
		waitCounts(t, s, 2, 0)
		want := "$" + strconv.Itoa(len(value)) + "\r\n" + value + "\r\n"
		got := make([]byte, len(want))
		for i := range gets {
			// A deadline per reply: a server that stops answering fails, one that a loaded
			// machine slows down does not (48 MB through race-built code took more than 20 s
			// in make soak).
			slow.c.SetReadDeadline(time.Now().Add(ioTimeout))
			if _, err := io.ReadFull(slow.r, got); err != nil || string(got) != want {
				t.Fatalf("reply %d = %.40q, %v", i, got, err)
			}
		}
		if got := slow.reply(); got != "+OK" {
			t.Fatalf("last reply %s", got)
		}
		slow.expectEOF()
		if got := fast.do("GET", "after"); got != `"yes"` {
			t.Fatalf("GET after = %s", got)
		}
	})
}

// Requests held while their client's queue is full keep their own bytes: on the event loop
// a batch is parsed in the loop's read buffer, which other clients' reads overwrite meanwhile.
func TestRESPHeldRequestsKeepTheirBytes(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		const gets = 300 // 19 MB of replies, past the soft limit and the kernel buffers: the rest is held
		s := startWith(t, Config{OutputSoftLimit: 64 << 10})
		fast := dial(t, s)
		fast.do("SET", "big", strings.Repeat("b", 64<<10))
		slow := dial(t, s)
		slow.c.(*net.TCPConn).SetReadBuffer(64 << 10)
		value := strings.Repeat("v", 200)
		slow.write(strings.Repeat(frame("GET", "big"), gets) + frame("SET", "held", value))
		testutil.Eventually(t, ioTimeout, func() bool { return s.Stats().Throttled == 1 }, "the client was never throttled")
		// Reads of this request fill the read buffer with other bytes where the held ones were.
		if got := fast.do("SET", "other", strings.Repeat("x", 60<<10)); got != "+OK" {
			t.Fatalf("SET other = %s", got)
		}
		for i := range gets {
			if got := slow.reply(); len(got) != 64<<10+2 {
				t.Fatalf("reply %d = %.40q", i, got)
			}
		}
		if got := slow.reply(); got != "+OK" {
			t.Fatalf("SET held = %s", got)
		}
		if got := fast.do("GET", "held"); got != strconv.Quote(value) {
			t.Fatalf("GET held = %.40s, want the value SET sent", got)
		}
	})
}

// Inline commands, as redis-benchmark's PING_INLINE and redis-cli's telnet mode send them, are
// told apart from the text protocol by their first word; they mix with RESP frames.
func TestInlineCommands(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s)
	c.write("PING\r\n")
	if got := c.reply(); got != "+PONG" {
		t.Fatalf("inline PING = %s", got)
	}
	c.write("set k:1 v1\r\n\r\n" + frame("GET", "k:1") + "  get   k:1 \r\nECHO  a\n")
	for _, want := range []string{"+OK", `"v1"`, `"v1"`, `"a"`} {
		if got := c.reply(); got != want {
			t.Fatalf("reply %s, want %s", got, want)
		}
	}
	c.write("NOSUCH x\r\n")
	if got := c.reply(); got != `-ERR unknown command 'NOSUCH', with args beginning with: 'x' ` {
		t.Fatalf("unknown inline command: %s", got)
	}
	c.write(strings.Repeat("x", maxInline+1))
	if got := c.reply(); !strings.HasPrefix(got, "-ERR Protocol error: too big inline request") {
		t.Fatalf("long inline request: %s", got)
	}

	// The text protocol is untouched, including its verbs without ':' and a first read that
	// ends inside the first word.
	for _, tc := range []struct{ first, rest, want string }{
		{"Get", "\n", "ERR " + reasonGetArgs},
		{"Pu", "t:a:b\nGet:a\n", "a:b"},
		{"Put:GET k", ":v\nGet:GET k\n", "GET k:v"}, // a key with a space is a text key
		{"PING:x", "\n", "ERR " + reasonVerb},
	} {
		d := dial(t, s)
		d.write(tc.first)
		d.write(tc.rest)
		if got := d.line(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("text %q: got %q, want %q", tc.first+tc.rest, got, tc.want)
		}
	}
}

func TestIsInlineStart(t *testing.T) {
	for _, tc := range []struct {
		in              string
		inline, decided bool
	}{
		{"PING\r\n", true, true}, {"ping", false, false}, {"ping ", true, true}, {"Get:k", false, true},
		{"Get\n", false, true}, {"GET k\n", true, true}, {"get k", true, true}, {"Put:x", false, true},
		{"SISMEMBER", false, false}, {"SISMEMBERS", false, true}, {"NOPE x", false, true}, {"\n", false, true},
	} {
		if inline, decided := isInlineStart([]byte(tc.in)); inline != tc.inline || decided != tc.decided {
			t.Errorf("isInlineStart(%q) = %v, %v; want %v, %v", tc.in, inline, decided, tc.inline, tc.decided)
		}
	}
}
