package lsp_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"ds440/lsp"
	"ds440/lsp/lspnet"
)

// TestReadBacklogRealUDP fills each side's Read queue far beyond what its Read channel holds,
// over the operating system's UDP (where on Linux the loop owns its socket and waits in it),
// with epochs so long that no epoch boundary wakes a loop during the test: each Read must
// still return at once, which only a loop woken by a Read that emptied the Read channel
// achieves.
func TestReadBacklogRealUDP(t *testing.T) {
	t.Parallel()
	const n = 2000
	p := params(60_000, 3, 64, 64, 1)
	// perRead bounds each Read: far less than an epoch, far more than a loaded machine needs.
	const perRead = 10 * time.Second
	msg := func(i int) string { return fmt.Sprintf("message %d", i) }
	within := func(t *testing.T, i int, read func() ([]byte, error)) {
		t.Helper()
		type result struct {
			p   []byte
			err error
		}
		got := make(chan result, 1)
		go func() {
			p, err := read()
			got <- result{p, err}
		}()
		select {
		case r := <-got:
			if r.err != nil || string(r.p) != msg(i) {
				t.Fatalf("Read %d = %q, %v; want %q", i, r.p, r.err, msg(i))
			}
		case <-time.After(perRead):
			t.Fatalf("Read %d did not return within %v", i, perRead)
		}
	}

	t.Run("server", func(t *testing.T) {
		t.Parallel()
		nw := lspnet.NewNetwork()
		s, addr := startServer(t, nw, p)
		c, err := lsp.NewClientWith(addr, 1, p, lsp.WithDial(nw.DialUDP))
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := c.Write([]byte(msg(i))); err != nil {
				t.Fatal(err)
			}
		}
		// Close returns once the server acked everything: all of it waits in the server.
		closeWithin(t, "Client.Close", c.Close)
		for i := range n {
			within(t, i, func() ([]byte, error) { _, p, err := s.Read(); return p, err })
		}
	})

	t.Run("client", func(t *testing.T) {
		t.Parallel()
		nw := lspnet.NewNetwork()
		s, addr := startServer(t, nw, p)
		c := dial(t, nw, addr, 1, p)
		for i := range n {
			if err := s.Write(c.ConnID(), []byte(msg(i))); err != nil {
				t.Fatal(err)
			}
		}
		// Close returns once the client acked everything: all of it waits in the client.
		closeWithin(t, "Server.Close", s.Close)
		for i := range n {
			within(t, i, c.Read)
		}
	})
}

// TestCloseLeavesNoGoroutineRealUDP checks that Close leaves none of an endpoint's goroutines
// behind over the operating system's UDP, where the synctest bubbles that check this for the
// other tests cannot run. It does not call t.Parallel: it runs before the parallel tests
// start, so any lsp goroutine still alive after the Closes is one of these endpoints'.
func TestCloseLeavesNoGoroutineRealUDP(t *testing.T) {
	nw := lspnet.NewNetwork()
	p := params(50, 20, 8, 8, 1)
	s, err := lsp.NewServerWith(0, p, lsp.WithListen(nw.ListenUDP))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := lspnet.SplitHostPort(s.(interface{ Addr() string }).Addr())
	c, err := lsp.NewClientWith("127.0.0.1:"+port, 1, p, lsp.WithDial(nw.DialUDP))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	id, got, err := s.Read()
	if err != nil || string(got) != "ping" {
		t.Fatalf("server Read = %q, %v", got, err)
	}
	if err := s.Write(id, []byte("pong")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Read(); err != nil || string(got) != "pong" {
		t.Fatalf("client Read = %q, %v", got, err)
	}
	closeWithin(t, "Client.Close", c.Close)
	closeWithin(t, "Server.Close", s.Close)
	// Close returns as the loop's last act; give the loops a moment to return.
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		left := 0
		for _, g := range strings.Split(stacks, "\n\n") {
			// An endpoint's goroutines: its loop, and its reader where it has one. (The
			// paused parallel tests' goroutines show ds440/lsp.Test frames only.)
			for _, f := range []string{"ds440/lsp.(*client)", "ds440/lsp.(*server)", "ds440/lsp.readPackets"} {
				if strings.Contains(g, f) {
					left++
					break
				}
			}
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lsp goroutines left after Close:\n%s", left, stacks)
		}
		time.Sleep(time.Millisecond) // real time: waiting for the loops' goroutines to return
	}
}
