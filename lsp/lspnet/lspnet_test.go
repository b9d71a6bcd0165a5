package lspnet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"ds440/internal/testutil"
)

const wait = 10 * time.Second

// pair opens a network of the test's own, a server socket on it and a client socket dialed
// to it.
func pair(t *testing.T) (n *Network, srv, cli *UDPConn) {
	t.Helper()
	return pairOn(t, NewNetwork())
}

// pairOn is pair on network n.
func pairOn(t *testing.T, n *Network) (_ *Network, srv, cli *UDPConn) {
	t.Helper()
	laddr, err := ResolveUDPAddr("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err = n.ListenUDP("udp", laddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cli, err = n.DialUDP("udp", nil, srv.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return n, srv, cli
}

// readFrom reads one datagram from a server socket, failing the test after wait.
func readFrom(t *testing.T, c *UDPConn) ([]byte, *UDPAddr) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 2048)
	n, a, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("ReadFromUDP: %v", err)
	}
	return buf[:n], a
}

func read(t *testing.T, c *UDPConn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return buf[:n]
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	_, srv, cli := pair(t)
	if srv.Side() != Server || cli.Side() != Client {
		t.Fatalf("sides %v %v", srv.Side(), cli.Side())
	}
	if _, err := cli.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got, from := readFrom(t, srv)
	if string(got) != "ping" || from.String() != cli.LocalAddr().String() {
		t.Fatalf("server read %q from %v, want ping from %v", got, from, cli.LocalAddr())
	}
	if _, err := srv.WriteToUDP([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	if got := read(t, cli); string(got) != "pong" {
		t.Fatalf("client read %q", got)
	}
	if cli.RemoteAddr().String() != srv.LocalAddr().String() || srv.RemoteAddr() != nil {
		t.Fatalf("remote addrs %v %v", cli.RemoteAddr(), srv.RemoteAddr())
	}
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	_, srv, _ := pair(t)
	if _, err := srv.Write([]byte("x")); !errors.Is(err, ErrNoPeer) {
		t.Errorf("Write on a listening socket: %v, want ErrNoPeer", err)
	}
	if _, err := srv.WriteToUDP([]byte("x"), nil); !errors.Is(err, ErrNoPeer) {
		t.Errorf("WriteToUDP(nil): %v, want ErrNoPeer", err)
	}
	if _, err := ResolveUDPAddr("udp", "no-port"); err == nil {
		t.Error("ResolveUDPAddr without a port succeeded")
	}
	if _, _, err := SplitHostPort("nope"); err == nil {
		t.Error("SplitHostPort without a port succeeded")
	}
	if h, p, err := SplitHostPort(JoinHostPort("::1", "80")); h != "::1" || p != "80" || err != nil {
		t.Errorf("Join/Split: %q %q %v", h, p, err)
	}
	var nilAddr *UDPAddr
	if nilAddr.String() != "<nil>" || nilAddr.Port() != 0 {
		t.Error("nil UDPAddr")
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	t.Parallel()
	_, srv, _ := pair(t)
	done := make(chan error, 1)
	go func() {
		_, _, err := srv.ReadFromUDP(make([]byte, 10))
		done <- err
	}()
	srv.Close()
	if err := testutil.Recv(t, done, wait); err == nil {
		t.Fatal("read on a closed socket succeeded")
	}
}

// TestWriteDrop checks each side's write control: dropped datagrams never arrive, and the
// first one to arrive is the one written after the control was cleared.
func TestWriteDrop(t *testing.T) {
	t.Parallel()
	for _, side := range []Side{Client, Server} {
		t.Run(side.String(), func(t *testing.T) {
			t.Parallel()
			n, srv, cli := pair(t)
			cli.Write([]byte("hello")) // lets the server learn the client's address
			_, caddr := readFrom(t, srv)
			send := func(b string) {
				if side == Client {
					cli.Write([]byte(b))
				} else {
					srv.WriteToUDP([]byte(b), caddr)
				}
			}
			recv := func() string {
				if side == Client {
					b, _ := readFrom(t, srv)
					return string(b)
				}
				return string(read(t, cli))
			}
			set := n.SetClientWriteDropPercent
			if side == Server {
				set = n.SetServerWriteDropPercent
			}
			set(100)
			for i := range 10 {
				if n, err := func() (int, error) {
					if side == Client {
						return cli.Write([]byte(fmt.Sprint(i)))
					}
					return srv.WriteToUDP([]byte(fmt.Sprint(i)), caddr)
				}(); n != 1 || err != nil {
					t.Fatalf("dropped write returned %d, %v; want it to look sent", n, err)
				}
			}
			set(0)
			send("marker")
			if got := recv(); got != "marker" {
				t.Fatalf("first datagram to arrive: %q, want marker", got)
			}
		})
	}
}

// TestReadDrop checks each side's read control: the datagram arrives at the socket (the tap
// sees it) but the reader never gets it.
func TestReadDrop(t *testing.T) {
	t.Parallel()
	for _, side := range []Side{Client, Server} {
		t.Run(side.String(), func(t *testing.T) {
			t.Parallel()
			n, srv, cli := pair(t)
			cli.Write([]byte("hello"))
			_, caddr := readFrom(t, srv)
			var dropped atomic.Int32
			t.Cleanup(n.SetTap(func(d Datagram) {
				if d.Op == Read && d.Dropped && d.Side == side {
					dropped.Add(1)
				}
			}))
			got := make(chan string, 1)
			go func() {
				buf := make([]byte, 100)
				var n int
				if side == Client {
					cli.SetReadDeadline(time.Now().Add(wait))
					n, _ = cli.Read(buf)
				} else {
					srv.SetReadDeadline(time.Now().Add(wait))
					n, _, _ = srv.ReadFromUDP(buf)
				}
				got <- string(buf[:n])
			}()
			send := func(b string) {
				if side == Client {
					srv.WriteToUDP([]byte(b), caddr)
				} else {
					cli.Write([]byte(b))
				}
			}
			if side == Client {
				n.SetClientReadDropPercent(100)
			} else {
				n.SetServerReadDropPercent(100)
			}
			send("a")
			send("b")
			testutil.Eventually(t, wait, func() bool { return dropped.Load() == 2 }, "tap saw %d dropped reads, want 2", dropped.Load())
			testutil.NoRecv(t, got, 20*time.Millisecond)
			n.ResetDropPercent()
			send("c")
			if s := testutil.Recv(t, got, wait); s != "c" {
				t.Fatalf("reader got %q, want c", s)
			}
		})
	}
}

// TestDropRate checks that a percentage is a probability per datagram.
func TestDropRate(t *testing.T) {
	t.Parallel()
	n, srv, cli := pair(t)
	var dropped, total atomic.Int32
	t.Cleanup(n.SetTap(func(d Datagram) {
		if d.Op == Write {
			total.Add(1)
			if d.Dropped {
				dropped.Add(1)
			}
		}
	}))
	_ = srv
	n.SetClientWriteDropPercent(30)
	n.SetClientWriteDropPercent(300) // clamped to 100
	n.SetClientWriteDropPercent(30)
	const count = 4000
	for range count {
		cli.Write([]byte("x"))
	}
	// Binomial(4000, 0.3): mean 1200, standard deviation 29; 7 deviations either side.
	if d := dropped.Load(); total.Load() != count || d < 1000 || d > 1400 {
		t.Fatalf("dropped %d of %d, want about 1200 of %d", d, total.Load(), count)
	}
}

func dataFrame(payload string) []byte {
	b, _ := json.Marshal(Frame{Type: TypeData, ConnID: 7, SeqNum: 42, Size: len(payload), Checksum: 0xbeef, Payload: []byte(payload)})
	return b
}

func TestDamage(t *testing.T) {
	t.Parallel()
	const payload = "the quick brown fox jumps over the lazy dog"
	cases := []struct {
		name  string
		set   func(*Faults, int)
		check func(f Frame) error
	}{
		{"shorten", (*Faults).SetMsgShorteningPercent, func(f Frame) error {
			if len(f.Payload) >= f.Size || !bytes.HasPrefix([]byte(payload), f.Payload) {
				return fmt.Errorf("payload %q not a proper prefix", f.Payload)
			}
			return nil
		}},
		{"lengthen", (*Faults).SetMsgLengtheningPercent, func(f Frame) error {
			if len(f.Payload) <= f.Size || !bytes.HasPrefix(f.Payload, []byte(payload)) {
				return fmt.Errorf("payload %q not the original plus junk", f.Payload)
			}
			return nil
		}},
		{"corrupt", (*Faults).SetMsgCorruptingPercent, func(f Frame) error {
			diff := 0
			for i := range f.Payload {
				b := f.Payload[i] ^ payload[i]
				for ; b != 0; b &= b - 1 {
					diff++
				}
			}
			if len(f.Payload) != f.Size || diff != 1 {
				return fmt.Errorf("payload %q differs in %d bits, want 1", f.Payload, diff)
			}
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, srv, cli := pair(t)
			tc.set(n.Faults, 100)
			sent := dataFrame(payload)
			orig := slices.Clone(sent)
			cli.Write(sent)
			if !bytes.Equal(sent, orig) {
				t.Fatal("the caller's buffer was modified")
			}
			got, _ := readFrom(t, srv)
			f, err := ParseFrame(got)
			if err != nil {
				t.Fatal(err)
			}
			if f.ConnID != 7 || f.SeqNum != 42 || f.Size != len(payload) || f.Checksum != 0xbeef {
				t.Fatalf("header changed: %v checksum %x", f, f.Checksum)
			}
			if err := tc.check(f); err != nil {
				t.Fatal(err)
			}
			// Anything that is not a data message with a payload passes untouched.
			for _, b := range [][]byte{
				[]byte(`{"Type":2,"ConnID":7,"SeqNum":3,"Size":0,"Checksum":0,"Payload":null}`),
				dataFrame(""),
				[]byte("not json at all"),
			} {
				cli.Write(b)
				if got, _ := readFrom(t, srv); !bytes.Equal(got, b) {
					t.Fatalf("%q became %q", b, got)
				}
			}
		})
	}
}

// TestDelayReorders checks that delayed datagrams all arrive, the delayed ones after the others.
func TestDelayReorders(t *testing.T) {
	t.Parallel()
	n, srv, cli := pair(t)
	var delayed atomic.Int32
	t.Cleanup(n.SetTap(func(d Datagram) {
		if d.Op == Write && d.Delay > 0 {
			delayed.Add(1)
			if d.Delay > 30*time.Millisecond {
				t.Errorf("delay %v beyond the maximum", d.Delay)
			}
		}
	}))
	srv.SetReadBuffer(1 << 20) // room for the whole burst
	n.SetDelayMessagePercent(50)
	n.SetMaxDelayMillis(30)
	const count = 100
	buf := make([]byte, 8)
	for i := range count {
		buf[0], buf[1] = byte(i), byte(i>>8)
		cli.Write(buf[:2]) // reusing buf checks that delayed writes keep their own copy
	}
	var got []int
	for range count {
		b, _ := readFrom(t, srv)
		got = append(got, int(b[0])|int(b[1])<<8)
	}
	if d := delayed.Load(); d < count/4 || d > 3*count/4 {
		t.Errorf("%d of %d delayed, want about half", d, count)
	}
	if slices.IsSorted(got) {
		t.Errorf("delays did not reorder anything")
	}
	slices.Sort(got)
	for i, v := range got {
		if v != i {
			t.Fatalf("datagram %d missing or duplicated: %v", i, got)
		}
	}
}

// TestDelayedAfterClose checks that a socket closed with writes held back sends none of them.
func TestDelayedAfterClose(t *testing.T) {
	t.Parallel()
	n, srv, cli := pair(t)
	n.SetDelayMessagePercent(100)
	n.SetMaxDelayMillis(20)
	cli.Write([]byte("late"))
	cli.Close()
	// Nothing may arrive within the longest delay and a generous margin.
	srv.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	got, _, err := srv.ReadFromUDP(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %d bytes (err %v) from a socket closed before its delayed write", got, err)
	}
}

// TestResets checks the course's meaning of ResetDropPercent (the four drop rates only) and
// that ResetFaults clears every control, putting a socket back on the fast path.
func TestResets(t *testing.T) {
	t.Parallel()
	f := new(Faults)
	f.SetDropPercent(10)
	f.SetMsgCorruptingPercent(5)
	f.SetMaxDelayMillis(10)
	f.ResetDropPercent()
	if !f.active.Load() || f.corruptPercent.Load() != 5 || f.maxDelayMillis.Load() != 10 {
		t.Fatal("ResetDropPercent cleared more than the drop rates")
	}
	for _, q := range []*atomic.Int32{&f.clientReadDrop, &f.clientWriteDrop, &f.serverReadDrop, &f.serverWriteDrop} {
		if q.Load() != 0 {
			t.Fatal("ResetDropPercent left a drop rate set")
		}
	}
	f.SetMsgCorrupted(true)
	f.ResetFaults()
	if f.active.Load() || f.maxDelayMillis.Load() != 0 || f.corruptAll.Load() {
		t.Fatal("ResetFaults left a control set")
	}
	f.SetMsgCorrupted(true)
	if !f.active.Load() {
		t.Fatal("SetMsgCorrupted(true) left the fast path on")
	}
}

// TestConcurrentControls changes controls while sockets write and read; run with -race.
func TestConcurrentControls(t *testing.T) {
	t.Parallel()
	n, srv, cli := pair(t)
	done := make(chan struct{}, 1)
	go func() {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 2048)
		srv.SetReadDeadline(time.Now().Add(wait))
		for {
			n, _, err := srv.ReadFromUDP(buf)
			if err != nil || string(buf[:n]) == "end" {
				return
			}
		}
	}()
	for i := range 500 {
		n.SetDropPercent(i % 50)
		n.SetMsgCorruptingPercent(i % 7)
		cli.Write(dataFrame("payload"))
	}
	n.ResetDropPercent()
	// The burst may have overflowed the socket's buffer, so repeat the end marker until read.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(wait)
	for {
		cli.Write([]byte("end"))
		select {
		case <-done:
			return
		case <-tick.C:
		case <-timeout:
			t.Fatal("the reader never saw the end marker")
		}
	}
}

func TestFrame(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string
	}{
		{`{"Type":0,"ConnID":0,"SeqNum":5}`, "[Connect 0 5]"},
		{string(dataFrame("ab")), "[Data 7 42 size=2 len=2]"},
		{`{"Type":2,"ConnID":3,"SeqNum":0}`, "[Ack 3 0]"},
		{`{"Type":3,"ConnID":3,"SeqNum":9}`, "[CAck 3 9]"},
		{`{"Type":9,"ConnID":3,"SeqNum":9}`, "[Type9 3 9]"},
	} {
		f, err := ParseFrame([]byte(tc.in))
		if err != nil || f.String() != tc.want {
			t.Errorf("ParseFrame(%s) = %v, %v; want %s", tc.in, f, err, tc.want)
		}
	}
	if f, _ := ParseFrame([]byte(`{"Type":2,"ConnID":3,"SeqNum":0}`)); !f.IsHeartbeat() || f.IsData() {
		t.Error("heartbeat misclassified")
	}
	if _, err := ParseFrame([]byte("{")); err == nil {
		t.Error("ParseFrame accepted garbage")
	}
}

// FuzzMangle feeds arbitrary datagrams through the damage controls: they never panic, never
// change the input, and leave anything but a data message with a payload as it was.
func FuzzMangle(f *testing.F) {
	f.Add(dataFrame("hello"))
	f.Add(dataFrame(""))
	f.Add([]byte(`{"Type":1,"Payload":"AAAA"}`))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs := new(Faults)
		fs.SetMsgShorteningPercent(50)
		fs.SetMsgLengtheningPercent(50)
		fs.SetMsgCorruptingPercent(50)
		orig := slices.Clone(b)
		out := fs.mangle(b)
		if !bytes.Equal(b, orig) {
			t.Fatal("input modified")
		}
		fr, err := ParseFrame(b)
		if (err != nil || !fr.IsData() || len(fr.Payload) == 0) && !bytes.Equal(out, b) {
			t.Fatalf("%q changed to %q", b, out)
		}
	})
}

func BenchmarkWriteRead(b *testing.B) {
	for _, faults := range []bool{false, true} {
		b.Run(fmt.Sprintf("faults=%v", faults), func(b *testing.B) {
			n := NewNetwork()
			laddr, _ := ResolveUDPAddr("udp", "127.0.0.1:0")
			srv, _ := n.ListenUDP("udp", laddr)
			defer srv.Close()
			cli, _ := n.DialUDP("udp", nil, srv.LocalAddr())
			defer cli.Close()
			if faults {
				n.SetMsgCorruptingPercent(1) // turns on the slow path, rarely acts
			}
			msg := dataFrame("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
			buf := make([]byte, 2048)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				cli.Write(msg)
				srv.ReadFromUDP(buf)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		string(dataFrame("hello")),
		`{"Type":2,"ConnID":3,"SeqNum":0,"Size":0,"Checksum":0,"Payload":null}`,
		`{ "Type" : 3 , "ConnID" : -1, "SeqNum":9223372036854775807,"Size":0,"Checksum":65535,"Payload":null}`,
		`{"SeqNum":4,"Type":1}`,
		`{"Type":1.5,"ConnID":3,"SeqNum":0,"Size":0,"Checksum":0}`,
		`{"Type":1,"ConnID":3,"SeqNum":0,"Size":0,"Checksum":70000}`,
		`garbage`,
	} {
		want, werr := ParseFrame([]byte(in))
		want.Payload = nil
		got, err := ParseHeader([]byte(in))
		if (err == nil) != (werr == nil) || got.String() != want.String() || got.Checksum != want.Checksum {
			t.Errorf("ParseHeader(%s) = %v %x, %v; ParseFrame says %v %x, %v", in, got, got.Checksum, err, want, want.Checksum, werr)
		}
	}
}

// FuzzParseHeader checks the fast scan against encoding/json on every input both accept.
func FuzzParseHeader(f *testing.F) {
	f.Add(dataFrame("hello"))
	f.Add([]byte(`{"Type":2,"ConnID":3,"SeqNum":0,"Size":0,"Checksum":0,"Payload":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseHeader(b)
		want, werr := ParseFrame(b)
		if err == nil && werr == nil && (got.Type != want.Type || got.ConnID != want.ConnID || got.SeqNum != want.SeqNum) {
			t.Fatalf("%q: ParseHeader %v, ParseFrame %v", b, got, want)
		}
	})
}
