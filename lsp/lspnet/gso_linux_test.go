//go:build linux && (amd64 || arm64)

package lspnet

import (
	"bytes"
	"syscall"
	"testing"
	"time"
)

// TestBatchSegmented sends runs of equal-sized datagrams, the shape GSO carries in one
// message, mixed with shorter, empty and differently addressed ones, and checks that each
// arrives whole, alone and in order, and that the kernel took the segmented sends: to sockets
// read with GRO on and off, through a full set of buffers and through a few at a time.
func TestBatchSegmented(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		gro  bool
		bufs int
	}{{"plain", false, MaxBatch}, {"gro", true, MaxBatch}, {"gro-3-bufs", true, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, srv, cli := pair(t)
			if tc.gro && (!srv.EnableGRO() || !cli.EnableGRO()) {
				t.Fatal("EnableGRO refused on loopback")
			}
			read := func(c *UDPConn, want int) ([][]byte, []*UDPAddr) {
				t.Helper()
				if tc.bufs == MaxBatch {
					return readBatchAll(t, c, want)
				}
				return readBatchFew(t, c, want, tc.bufs)
			}
			sizes := []int{100, 100, 100, 50, 100, 100, 0, 100, 30, 1400, 1400, 1400, 1400, 1399, 1400, 7}
			for range 50 {
				sizes = append(sizes, 1000)
			}
			var up [][]byte
			for i, size := range sizes {
				up = append(up, bytes.Repeat([]byte{byte('a' + i)}, size))
			}
			if sent, err := cli.WriteBatch(up, nil); sent != len(up) || err != nil {
				t.Fatalf("WriteBatch = %d, %v", sent, err)
			}
			got, from := read(srv, len(up))
			for i := range got {
				if !bytes.Equal(got[i], up[i]) {
					t.Fatalf("datagram %d: %d bytes %.8q, want %d bytes %.8q", i, len(got[i]), got[i], len(up[i]), up[i])
				}
			}
			if lim := cli.gsoLimit.Load(); lim != 0 {
				t.Errorf("the kernel refused GSO on loopback: limit %d", lim)
			}

			// From the listening socket to two clients, interleaved: a run never crosses
			// addresses, and a datagram with no address is refused alone.
			cli2, err := n.DialUDP("udp", nil, srv.LocalAddr())
			if err != nil {
				t.Fatal(err)
			}
			defer cli2.Close()
			if tc.gro {
				cli2.EnableGRO()
			}
			cli2.WriteBatch([][]byte{[]byte("hello")}, nil)
			_, from2 := read(srv, 1)
			c1, c2 := from[0], from2[0]
			down := [][]byte{[]byte("1a"), []byte("1b"), []byte("2a"), []byte("2b"), []byte("xx"), []byte("1c")}
			to := []*UDPAddr{c1, c1, c2, c2, nil, c1}
			if sent, err := srv.WriteBatch(down, to); sent != 5 || err == nil {
				t.Fatalf("WriteBatch with a nil address = %d, %v; want 5 and an error", sent, err)
			}
			for _, r := range []struct {
				c    *UDPConn
				want []string
			}{{cli, []string{"1a", "1b", "1c"}}, {cli2, []string{"2a", "2b"}}} {
				got, _ := read(r.c, len(r.want))
				for i, w := range r.want {
					if string(got[i]) != w {
						t.Fatalf("datagram %d at %v: %q, want %q", i, r.c.LocalAddr(), got[i], w)
					}
				}
			}
		})
	}
}

// TestGSORefused checks how a refused segmented send narrows GSO: a size too large for the
// route stops it for that size and larger, anything else stops it.
func TestGSORefused(t *testing.T) {
	t.Parallel()
	type refusal struct {
		size  int
		errno syscall.Errno
	}
	for _, tc := range []struct {
		refusals []refusal
		want     int64
	}{
		{[]refusal{{1500, syscall.EINVAL}}, 1500},
		{[]refusal{{1500, syscall.EMSGSIZE}, {9000, syscall.EINVAL}}, 1500},
		{[]refusal{{9000, syscall.EINVAL}, {1500, syscall.EINVAL}}, 1500},
		{[]refusal{{1500, syscall.EIO}, {9000, syscall.EINVAL}}, 1},
	} {
		var c UDPConn
		for _, r := range tc.refusals {
			c.gsoRefused(r.size, r.errno)
		}
		if got := c.gsoLimit.Load(); got != tc.want {
			t.Errorf("%v: limit %d, want %d", tc.refusals, got, tc.want)
		}
		run := func(size int) int {
			return c.gsoRun([][]byte{make([]byte, size), make([]byte, size)}, nil, 0, nil)
		}
		if n := run(int(tc.want)); n != 1 {
			t.Errorf("%v: two %d-byte datagrams go as %d, want 1 (no GSO)", tc.refusals, tc.want, n)
		}
		if n := run(int(tc.want) - 1); tc.want > 1 && n != 2 {
			t.Errorf("%v: two %d-byte datagrams go as %d, want 2", tc.refusals, tc.want-1, n)
		}
	}
}

// TestGROJoins checks that a GSO send reaches a GRO socket as one message that says its
// datagrams' size, the case readRuns cuts apart.
func TestGROJoins(t *testing.T) {
	t.Parallel()
	_, srv, cli := pair(t)
	if !srv.EnableGRO() {
		t.Fatal("EnableGRO refused on loopback")
	}
	run := [][]byte{}
	for range 10 {
		run = append(run, bytes.Repeat([]byte{'r'}, 100))
	}
	if sent, err := cli.WriteBatch(run, nil); sent != len(run) || err != nil {
		t.Fatalf("WriteBatch = %d, %v", sent, err)
	}
	srv.SetReadDeadline(time.Now().Add(wait))
	st := newBatchState()
	n, err := srv.recvmmsg(st, [][]byte{make([]byte, groBufLen)}, true, true)
	if err != nil || n != 1 {
		t.Fatalf("recvmmsg = %d, %v", n, err)
	}
	if got, size := st.hdrs[0].n, groSize(&st.hdrs[0].hdr, &st.ctrl[0]); got != 1000 || size != 100 {
		t.Fatalf("one message of %d bytes in datagrams of %d; want 1000 in 100", got, size)
	}
}

// TestBatchNoAllocs checks that a round trip of batched calls, a run of two datagrams each
// way between a dialed socket and a listening one with GRO on (LSP's data and ack), allocates
// nothing once the sender's address has been seen.
func TestBatchNoAllocs(t *testing.T) { // not parallel: AllocsPerRun counts the whole process
	_, srv, cli := pair(t)
	if !srv.EnableGRO() || !cli.EnableGRO() {
		t.Fatal("EnableGRO refused on loopback")
	}
	run := [][]byte{bytes.Repeat([]byte{'d'}, 1400), []byte("ack")}
	bufs := [][]byte{make([]byte, 1<<16), make([]byte, 1<<16), make([]byte, 1<<16)}
	ns, addrs := make([]int, len(bufs)), make([]*UDPAddr, len(bufs))
	to := make([]*UDPAddr, len(run))
	srv.SetReadDeadline(time.Now().Add(wait))
	cli.SetReadDeadline(time.Now().Add(wait))
	var failed error
	read := func(c *UDPConn) {
		for got := 0; got < len(run) && failed == nil; {
			n, err := c.ReadBatch(bufs, ns, addrs)
			got, failed = got+n, err
		}
	}
	round := func() {
		if _, err := cli.WriteBatch(run, nil); err != nil {
			failed = err
		}
		read(srv)
		to[0], to[1] = addrs[0], addrs[0]
		if _, err := srv.WriteBatch(run, to); err != nil {
			failed = err
		}
		read(cli)
	}
	round() // the server's first datagram from the client makes its UDPAddr
	if allocs := testing.AllocsPerRun(100, round); allocs != 0 || failed != nil {
		t.Fatalf("%v allocations per round trip (error %v), want 0", allocs, failed)
	}
}
