package lspnet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// readBatchAll reads batches from c until want datagrams arrived, returning them in order.
func readBatchAll(t *testing.T, c *UDPConn, want int) ([][]byte, []*UDPAddr) {
	t.Helper()
	return readBatchFew(t, c, want, MaxBatch)
}

// readBatchFew is readBatchAll through only k buffers per call; it checks that no call
// returns more datagrams than it was given buffers.
func readBatchFew(t *testing.T, c *UDPConn, want, k int) ([][]byte, []*UDPAddr) {
	t.Helper()
	bufs := make([][]byte, k)
	for i := range bufs {
		bufs[i] = make([]byte, 1<<16) // room for any datagram: a shorter buffer truncates
	}
	ns, addrs := make([]int, k), make([]*UDPAddr, k)
	var got [][]byte
	var from []*UDPAddr
	c.SetReadDeadline(time.Now().Add(wait))
	for len(got) < want {
		n, err := c.ReadBatch(bufs, ns, addrs)
		if err != nil {
			t.Fatalf("ReadBatch after %d of %d: %v", len(got), want, err)
		}
		if n > k {
			t.Fatalf("ReadBatch returned %d datagrams into %d buffers", n, k)
		}
		for i := range n {
			got = append(got, bytes.Clone(bufs[i][:ns[i]]))
			from = append(from, addrs[i])
		}
	}
	return got, from
}

// TestBatch sends batches both ways between a dialed socket and a listening one, IPv4-only
// and dual-stack, in memory too, and checks every datagram arrives intact, in order, from
// the right address.
func TestBatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, listen string
		mem          bool
	}{{"ipv4", "127.0.0.1:0", false}, {"dual-stack", ":0", false}, {"memory", "", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := NewNetwork()
			if tc.mem {
				n = NewMemNetwork()
			}
			var laddr *UDPAddr
			if tc.listen != "" {
				laddr, _ = ResolveUDPAddr("udp", tc.listen)
			}
			srv, err := n.ListenUDP("udp", laddr)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			srv.SetReadBuffer(1 << 20)
			raddr, _ := ResolveUDPAddr("udp", fmt.Sprintf("127.0.0.1:%d", srv.LocalAddr().Port()))
			cli, err := n.DialUDP("udp", nil, raddr)
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			cli.SetReadBuffer(1 << 20)
			const count = 150 // more than MaxBatch: WriteBatch splits it
			var up [][]byte
			for i := range count {
				up = append(up, fmt.Appendf(nil, "up %d %s", i, bytes.Repeat([]byte{'x'}, i)))
			}
			if sent, err := cli.WriteBatch(up, nil); sent != count || err != nil {
				t.Fatalf("WriteBatch = %d, %v", sent, err)
			}
			got, from := readBatchAll(t, srv, count)
			for i := range got {
				if !bytes.Equal(got[i], up[i]) || from[i].Port() != cli.LocalAddr().Port() {
					t.Fatalf("datagram %d: %q from %v, want %q from port %d", i, got[i], from[i], up[i], cli.LocalAddr().Port())
				}
			}
			down := [][]byte{[]byte("one"), {}, []byte("three")}
			to := []*UDPAddr{from[0], from[0], from[0]}
			if sent, err := srv.WriteBatch(down, to); sent != len(down) || err != nil {
				t.Fatalf("server WriteBatch = %d, %v", sent, err)
			}
			got, _ = readBatchAll(t, cli, len(down))
			for i := range got {
				if !bytes.Equal(got[i], down[i]) {
					t.Fatalf("client datagram %d: %q, want %q", i, got[i], down[i])
				}
			}
			if sent, err := srv.WriteBatch(down[:1], nil); sent != 0 || err == nil {
				t.Fatalf("WriteBatch with no address = %d, %v; want an error", sent, err)
			}
		})
	}
}

// TestBatchFaults checks the fault controls and the sniffer act on every datagram of a batch.
func TestBatchFaults(t *testing.T) {
	t.Parallel()
	n, srv, cli := pair(t)
	n.StartSniff()
	n.SetClientWriteDropPercent(100)
	batch := [][]byte{dataFrame("a"), dataFrame("b"), dataFrame("c")}
	if sent, err := cli.WriteBatch(batch, nil); sent != 3 || err != nil {
		t.Fatalf("dropped WriteBatch = %d, %v; want it to look sent", sent, err)
	}
	n.SetClientWriteDropPercent(0)
	n.SetServerReadDropPercent(100)
	// Every datagram read is dropped, so ReadBatch blocks; once the tap has seen the three
	// dropped, the deadline is moved to now to end it.
	dropped := 0
	t.Cleanup(n.SetTap(func(d Datagram) {
		if d.Op == Read && d.Dropped {
			if dropped++; dropped == len(batch) {
				srv.SetReadDeadline(time.Now())
			}
		}
	}))
	srv.SetReadDeadline(time.Now().Add(wait))
	cli.WriteBatch(batch, nil)
	bufs, ns, addrs := [][]byte{make([]byte, 100)}, []int{0}, []*UDPAddr{nil}
	if k, err := srv.ReadBatch(bufs, ns, addrs); k != 0 || err == nil {
		t.Fatalf("ReadBatch with every read dropped = %d, %v", k, err)
	}
	if s := n.StopSniff(); s.NumSentData != 6 || s.NumDroppedData != 6 {
		t.Fatalf("sniffed %+v, want 6 data sent and 6 dropped", s)
	}
}

// FuzzBatch sends arbitrary datagrams (the input cut at each 0xff byte) in one WriteBatch and
// checks ReadBatch returns exactly them, in order, on a socket read plainly and on one with
// GRO on where the platform has it.
func FuzzBatch(f *testing.F) {
	f.Add([]byte("hello\xffworld\xff\xff"), false)
	f.Add(dataFrame("x"), true)
	f.Add([]byte("aaaa\xffbbbb\xffcccc\xffdd\xffeeee"), true)
	f.Add([]byte{}, false)
	_, srv, cli := pairOnF(f)
	_, groSrv, groCli := pairOnF(f)
	groSrv.EnableGRO()
	f.Fuzz(func(t *testing.T, in []byte, gro bool) {
		srv, cli := srv, cli
		if gro {
			srv, cli = groSrv, groCli
		}
		parts := bytes.Split(in, []byte{0xff})
		if len(parts) > MaxBatch {
			parts = parts[:MaxBatch]
		}
		for _, p := range parts {
			if len(p) > 60000 {
				t.Skip("a datagram longer than UDP carries")
			}
		}
		if sent, err := cli.WriteBatch(parts, nil); sent != len(parts) || err != nil {
			t.Fatalf("WriteBatch = %d, %v", sent, err)
		}
		got, _ := readBatchAll(t, srv, len(parts))
		for i := range parts {
			if !bytes.Equal(got[i], parts[i]) {
				t.Fatalf("datagram %d: %q, want %q", i, got[i], parts[i])
			}
		}
	})
}

// pairOnF is pair for a fuzz target, whose sockets serve every input.
func pairOnF(f *testing.F) (*Network, *UDPConn, *UDPConn) {
	n := NewNetwork()
	laddr, _ := ResolveUDPAddr("udp", "127.0.0.1:0")
	srv, err := n.ListenUDP("udp", laddr)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	srv.SetReadBuffer(1 << 20)
	cli, err := n.DialUDP("udp", nil, srv.LocalAddr())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { cli.Close() })
	return n, srv, cli
}

// TestReadBatchNow checks the read that does not wait: nothing queued is 0 and no error, a
// queued datagram is read even after a deadline in the past has ended waiting reads (which is
// how a loop owning the socket is woken), read-drops act on it as on ReadBatch, and an
// in-memory socket, which cannot be polled, says so.
func TestReadBatchNow(t *testing.T) {
	t.Parallel()
	n := NewNetwork()
	srv, err := n.ListenUDP("udp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	raddr, _ := ResolveUDPAddr("udp", fmt.Sprintf("127.0.0.1:%d", srv.LocalAddr().Port()))
	cli, err := n.DialUDP("udp", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	bufs, ns, addrs := [][]byte{make([]byte, 100), make([]byte, 100)}, make([]int, 2), make([]*UDPAddr, 2)
	if !srv.Pollable() {
		if got, err := srv.ReadBatchNow(bufs, ns, addrs); got != 0 || !errors.Is(err, ErrNotPollable) {
			t.Fatalf("ReadBatchNow on a socket that is not pollable = %d, %v", got, err)
		}
		t.Skip("no pollable sockets on this platform")
	}
	if got, err := srv.ReadBatchNow(bufs, ns, addrs); got != 0 || err != nil {
		t.Fatalf("ReadBatchNow on an empty socket = %d, %v; want 0, nil", got, err)
	}
	srv.SetReadDeadline(time.Unix(1, 0))
	if _, err := srv.ReadBatch(bufs, ns, addrs); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadBatch after a deadline in the past: %v", err)
	}
	// A datagram sent on loopback is queued at the receiver when the send returns, but poll
	// a while rather than count on it.
	read := func() int {
		t.Helper()
		for range 1000 {
			got, err := srv.ReadBatchNow(bufs, ns, addrs)
			if err != nil {
				t.Fatalf("ReadBatchNow: %v", err)
			}
			if got > 0 {
				return got
			}
			time.Sleep(time.Millisecond) // real time: waiting for the kernel to queue a datagram
		}
		return 0
	}
	cli.Write([]byte("hello"))
	if got := read(); got != 1 || string(bufs[0][:ns[0]]) != "hello" || addrs[0] == nil {
		t.Fatalf("ReadBatchNow after a send = %d, %q from %v", got, bufs[0][:ns[0]], addrs[0])
	}
	dropped := 0 // the tap runs on the reading goroutine: this one
	defer n.SetTap(func(d Datagram) {
		if d.Op == Read && d.Dropped {
			dropped++
		}
	})()
	n.SetServerReadDropPercent(100)
	cli.Write([]byte("dropped"))
	for tries := 0; dropped == 0; tries++ {
		if got, err := srv.ReadBatchNow(bufs, ns, addrs); got != 0 || err != nil {
			t.Fatalf("ReadBatchNow with every read dropped = %d, %v; want 0, nil", got, err)
		}
		if tries == 1000 {
			t.Fatal("the datagram to drop never arrived")
		}
		time.Sleep(time.Millisecond) // real time: waiting for the kernel to queue a datagram
	}
	n.SetServerReadDropPercent(0)
	cli.Write([]byte("kept"))
	if got := read(); got != 1 || string(bufs[0][:ns[0]]) != "kept" {
		t.Fatalf("ReadBatchNow after a dropped and a kept datagram = %d, %q", got, bufs[0][:ns[0]])
	}

	mem, err := NewMemNetwork().ListenUDP("udp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if mem.Pollable() {
		t.Error("an in-memory socket says it is pollable")
	}
	if got, err := mem.ReadBatchNow(bufs, ns, addrs); got != 0 || !errors.Is(err, ErrNotPollable) {
		t.Errorf("ReadBatchNow on an in-memory socket = %d, %v; want ErrNotPollable", got, err)
	}
}
