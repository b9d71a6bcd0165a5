//go:build linux && (amd64 || arm64)

package lspnet

import (
	"bytes"
	"syscall"
	"testing"
)

// TestBatchSegmented sends runs of equal-sized datagrams, the shape GSO carries in one
// message, mixed with shorter, empty and differently addressed ones, and checks that each
// arrives whole, alone and in order, and that the kernel took the segmented sends.
func TestBatchSegmented(t *testing.T) {
	t.Parallel()
	n, srv, cli := pair(t)
	sizes := []int{100, 100, 100, 50, 100, 100, 0, 100, 30, 1400, 1400, 1400, 1400, 1399, 1400, 7}
	var up [][]byte
	for i, size := range sizes {
		up = append(up, bytes.Repeat([]byte{byte('a' + i)}, size))
	}
	if sent, err := cli.WriteBatch(up, nil); sent != len(up) || err != nil {
		t.Fatalf("WriteBatch = %d, %v", sent, err)
	}
	got, from := readBatchAll(t, srv, len(up))
	for i := range got {
		if !bytes.Equal(got[i], up[i]) {
			t.Fatalf("datagram %d: %d bytes %.8q, want %d bytes %.8q", i, len(got[i]), got[i], len(up[i]), up[i])
		}
	}
	if lim := cli.gsoLimit.Load(); lim != 0 {
		t.Errorf("the kernel refused GSO on loopback: limit %d", lim)
	}

	// From the listening socket to two clients, interleaved: a run never crosses addresses,
	// and a datagram with no address is refused alone.
	cli2, err := n.DialUDP("udp", nil, srv.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer cli2.Close()
	cli2.WriteBatch([][]byte{[]byte("hello")}, nil)
	_, from2 := readBatchAll(t, srv, 1)
	c1, c2 := from[0], from2[0]
	down := [][]byte{[]byte("1a"), []byte("1b"), []byte("2a"), []byte("2b"), []byte("xx"), []byte("1c")}
	to := []*UDPAddr{c1, c1, c2, c2, nil, c1}
	if sent, err := srv.WriteBatch(down, to); sent != 5 || err == nil {
		t.Fatalf("WriteBatch with a nil address = %d, %v; want 5 and an error", sent, err)
	}
	for _, tc := range []struct {
		c    *UDPConn
		want []string
	}{{cli, []string{"1a", "1b", "1c"}}, {cli2, []string{"2a", "2b"}}} {
		got, _ := readBatchAll(t, tc.c, len(tc.want))
		for i, w := range tc.want {
			if string(got[i]) != w {
				t.Fatalf("datagram %d at %v: %q, want %q", i, tc.c.LocalAddr(), got[i], w)
			}
		}
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
