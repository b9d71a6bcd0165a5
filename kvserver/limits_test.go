package kvserver

import (
	"net"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
)

func startWith(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := newServerFor(tb, NewMemoryStore(), cfg)
	if err := s.Start(0); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// A RESP client that pipelines more than the soft limit of replies without reading is
// throttled: its requests wait, unread, and none is lost; once it reads, every reply arrives
// in order. Meanwhile others are served.
func TestOutputSoftLimitThrottlesRESP(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		s := startWith(t, Config{OutputSoftLimit: 256 << 10})
		value := strings.Repeat("v", 64<<10)
		setup := dial(t, s)
		if r := setup.do("SET", "big", value); r != "+OK" {
			t.Fatal(r)
		}
		const n = 300 // 19 MB of replies, more than the kernel buffers of a small receive window
		slow := dial(t, s)
		slow.c.(*net.TCPConn).SetReadBuffer(64 << 10)
		slow.write(strings.Repeat(frame("GET", "big"), n))
		testutil.Eventually(t, ioTimeout, func() bool { return s.Stats().Throttled == 1 }, "the client was never throttled")
		if st := s.Stats(); st.OutputBytes > 1<<20 {
			t.Fatalf("%d bytes of replies pending for a throttled client with a 256 KiB limit", st.OutputBytes)
		}
		if r := dial(t, s).do("PING"); r != "+PONG" {
			t.Fatalf("PING beside a throttled client: %q", r)
		}
		slow.c.SetReadDeadline(time.Now().Add(ioTimeout))
		slow.bulks(n, value)
		if st := s.Stats(); st.Throttled != 0 || st.OverLimit != 0 || st.Active != 3 {
			t.Fatalf("after reading: %+v", st)
		}
	})
}

// A text client's replies past the soft limit are discarded and counted, as when its 500-line
// queue is full; it stays connected.
func TestOutputSoftLimitText(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		s := startWith(t, Config{OutputSoftLimit: 256 << 10})
		value := strings.Repeat("t", 64<<10)
		c := dial(t, s)
		c.send("Put:big:" + value)
		c.send(strings.Repeat("Get:big\n", 400) + "Get:big") // 25 MB asked, 500 lines allow 32 MB
		testutil.Eventually(t, ioTimeout, func() bool { return s.Stats().DroppedLines > 0 }, "no reply was discarded")
		dropped := s.Stats().DroppedLines
		if dropped >= 401 {
			t.Fatalf("every reply discarded")
		}
		for range 401 - dropped {
			if l := c.line(); l != "big:"+value {
				t.Fatalf("reply %.20q", l)
			}
		}
		c.sync()
		if st := s.Stats(); st.Active != 1 || st.OverLimit != 0 {
			t.Fatalf("%+v", st)
		}
	})
}

// A reply over the hard limit to a client that does not read drops it, counted in
// CountDropped; its memory goes with it.
func TestOutputHardLimitDrops(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		for _, proto := range []string{"resp", "text"} {
			s := startWith(t, Config{OutputSoftLimit: 64 << 10, OutputHardLimit: 1 << 20})
			c := dial(t, s)
			value := strings.Repeat("h", 512<<10)
			if proto == "resp" {
				for range 4 {
					if r := c.do("RPUSH", "l", value); r[0] != ':' {
						t.Fatal(r)
					}
				}
				c.write(frame("LRANGE", "l", "0", "-1"))
			} else {
				for range 4 {
					c.send("Put:l:" + value)
				}
				c.send("Get:l")
			}
			waitCounts(t, s, 0, 1)
			if st := s.Stats(); st.OverLimit != 1 || st.OutputBytes != 0 {
				t.Fatalf("%s: %+v", proto, st)
			}
		}
	})
}
