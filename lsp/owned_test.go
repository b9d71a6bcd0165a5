package lsp_test

import (
	"fmt"
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
