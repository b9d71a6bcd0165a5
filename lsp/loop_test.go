package lsp

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
	"ds440/lsp/lspnet"
)

// The loop tests run real Clients and Servers over an in-memory network under testing/synctest,
// each in a bubble of its own: time moves only when every goroutine of the test is blocked, so
// epochs cost nothing, nothing depends on the machine's load, and synctest fails a test whose
// goroutines are left blocked when it ends (a leak). The heavy loss and many-client runs over
// real UDP are in e2e_test.go; these check the API and the loops' wiring.

// fastParams are short epochs with a silence limit generous enough for a loaded machine.
func fastParams() *Params {
	return &Params{EpochLimit: 20, EpochMillis: 25, WindowSize: 8, MaxBackOffInterval: 2, MaxUnackedMessages: 8}
}

// quickLoss has a short silence limit, for tests that wait for a loss, yet 250 ms of silence
// before a live peer is given up for lost on a loaded machine.
func quickLoss() *Params {
	return &Params{EpochLimit: 5, EpochMillis: 50, WindowSize: 8, MaxBackOffInterval: 2, MaxUnackedMessages: 8}
}

// eventually is the generous bound for anything that should happen within a few epochs.
const eventually = 10 * time.Second

// bubble runs test in parallel with the others, under synctest, on a fresh in-memory network.
func bubble(t *testing.T, test func(t *testing.T, n *lspnet.Network)) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { test(t, lspnet.NewMemNetwork()) })
}

func startServer(t testing.TB, n *lspnet.Network, p *Params) (Server, string) {
	t.Helper()
	s, err := NewServerWith(0, p, WithListen(n.ListenUDP))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, port, err := lspnet.SplitHostPort(s.(interface{ Addr() string }).Addr())
	if err != nil {
		t.Fatal(err)
	}
	return s, lspnet.JoinHostPort("127.0.0.1", port)
}

func startClient(t testing.TB, n *lspnet.Network, hostport string, isn int, p *Params) Client {
	t.Helper()
	c, err := NewClientWith(hostport, isn, p, WithDial(n.DialUDP))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type serverRead struct {
	id      int
	payload []byte
	err     error
}

// serverReads runs Server.Read in a goroutine until it fails with ErrClosed, so that tests can
// wait on reads with a deadline.
func serverReads(s Server) <-chan serverRead {
	ch := make(chan serverRead, 1024)
	go func() {
		defer close(ch)
		for {
			id, p, err := s.Read()
			if errors.Is(err, ErrClosed) {
				return
			}
			ch <- serverRead{id, p, err}
		}
	}()
	return ch
}

type clientRead struct {
	payload []byte
	err     error
}

// clientReads is serverReads for a Client; it stops after the first error.
func clientReads(c Client) <-chan clientRead {
	ch := make(chan clientRead, 1024)
	go func() {
		defer close(ch)
		for {
			p, err := c.Read()
			ch <- clientRead{p, err}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

func TestEchoManyClients(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		s, addr := startServer(t, n, fastParams())
		reads := serverReads(s)
		go func() { // echo everything back
			for r := range reads {
				if r.err == nil {
					s.Write(r.id, r.payload)
				}
			}
		}()
		const clients, msgs = 4, 300
		done := make(chan error, clients)
		for i := range clients {
			c := startClient(t, n, addr, i*1000, fastParams())
			go func() {
				in := clientReads(c)
				for j := range msgs {
					if err := c.Write(fmt.Appendf(nil, "%d/%d", i, j)); err != nil {
						done <- err
						return
					}
				}
				for j := range msgs {
					r := <-in
					if want := fmt.Sprintf("%d/%d", i, j); r.err != nil || string(r.payload) != want {
						done <- fmt.Errorf("client %d read %q, %v; want %q", i, r.payload, r.err, want)
						return
					}
				}
				done <- c.Close()
			}()
		}
		for range clients {
			if err := testutil.Recv(t, done, 30*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		testutil.Within(t, eventually, "Server.Close", func() { s.Close() })
	})
}

func TestConnIDsAreDistinct(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		_, addr := startServer(t, n, fastParams())
		seen := map[int]bool{}
		for i := range 3 {
			c := startClient(t, n, addr, 7, fastParams()) // same isn, different client ports
			if id := c.ConnID(); id <= 0 || seen[id] {
				t.Fatalf("client %d got conn id %d, seen %v", i, id, seen)
			}
			seen[c.ConnID()] = true
		}
	})
}

func TestNewClientWithoutServer(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		p := &Params{EpochLimit: 3, EpochMillis: 20, WindowSize: 1, MaxUnackedMessages: 1}
		start := time.Now()
		c, err := NewClientWith("127.0.0.1:9", 0, p, WithDial(n.DialUDP)) // nobody listens on port 9
		if !errors.Is(err, ErrNoServer) || c != nil {
			t.Fatalf("NewClient with no server = %v, %v; want ErrNoServer", c, err)
		}
		if el := time.Since(start); el != 3*20*time.Millisecond { // synctest time is exact
			t.Fatalf("gave up after %v, want exactly EpochLimit epochs", el)
		}
	})
}

// TestEpochDuration checks that Params.Epoch, when set, is the epoch and EpochMillis is
// ignored: a client with no server gives up after exactly EpochLimit epochs of 2.5 ms.
func TestEpochDuration(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		p := &Params{EpochLimit: 4, EpochMillis: 1000, Epoch: 2500 * time.Microsecond, WindowSize: 1, MaxUnackedMessages: 1}
		start := time.Now()
		if _, err := NewClientWith("127.0.0.1:9", 0, p, WithDial(n.DialUDP)); !errors.Is(err, ErrNoServer) {
			t.Fatalf("NewClient with no server: %v; want ErrNoServer", err)
		}
		if el := time.Since(start); el != 10*time.Millisecond {
			t.Fatalf("gave up after %v, want 4 epochs of 2.5 ms", el)
		}
		if got := p.String(); !strings.Contains(got, "Epoch: 2.5ms") {
			t.Errorf("String() = %q, want the Epoch shown", got)
		}
	})
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	for _, p := range []*Params{
		{EpochLimit: 0, EpochMillis: 1, WindowSize: 1, MaxUnackedMessages: 1},
		{EpochLimit: 1, EpochMillis: 0, WindowSize: 1, MaxUnackedMessages: 1},
		{EpochLimit: 1, EpochMillis: 1, WindowSize: 0, MaxUnackedMessages: 1},
		{EpochLimit: 1, EpochMillis: 1, WindowSize: 1, MaxUnackedMessages: 0},
		{EpochLimit: 1, EpochMillis: 1, WindowSize: 1, MaxUnackedMessages: 1, MaxBackOffInterval: -1},
		{EpochLimit: 1, EpochMillis: 1, WindowSize: 1, MaxUnackedMessages: 1, Epoch: -time.Millisecond},
	} {
		if _, err := NewServer(0, p); !errors.Is(err, ErrBadParams) {
			t.Errorf("NewServer(%v) error %v, want ErrBadParams", p, err)
		}
		if _, err := NewClient("127.0.0.1:1", 0, p); !errors.Is(err, ErrBadParams) {
			t.Errorf("NewClient(%v) error %v, want ErrBadParams", p, err)
		}
	}
	for _, isn := range []int{-1, MaxInitialSeqNum + 1} {
		if _, err := NewClient("127.0.0.1:1", isn, nil); !errors.Is(err, ErrBadSeqNum) {
			t.Errorf("NewClient with isn %d: %v", isn, err)
		}
	}
	if _, err := NewClient("no port here", 0, nil); err == nil {
		t.Error("NewClient with a bad address succeeded")
	}
	if _, err := NewServer(70000, nil); err == nil {
		t.Error("NewServer on port 70000 succeeded")
	}
}

func TestCloseFlushesPendingWrites(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		p := &Params{EpochLimit: 20, EpochMillis: 25, WindowSize: 1, MaxUnackedMessages: 1}
		s, addr := startServer(t, n, p)
		c := startClient(t, n, addr, 1, p)
		const count = 50
		for i := range count {
			if err := c.Write(fmt.Appendf(nil, "m%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		testutil.Within(t, eventually, "Client.Close", func() { err = c.Close() })
		if err != nil {
			t.Fatalf("Close = %v", err)
		}
		// Close returned only after every message was acked, so the server has them all already.
		reads := serverReads(s)
		for i := range count {
			r := testutil.Recv(t, reads, eventually)
			if r.err != nil || string(r.payload) != fmt.Sprint("m", i) {
				t.Fatalf("server read %d: %q, %v", i, r.payload, r.err)
			}
		}
		if err := c.Write([]byte("late")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Write after Close = %v, want ErrClosed", err)
		}
		if _, err := c.Read(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Read after Close = %v, want ErrClosed", err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second Close = %v", err)
		}
		testutil.Within(t, eventually, "Server.Close", func() { s.Close() })
		if _, _, err := s.Read(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Server.Read after Close = %v", err)
		}
		if err := s.Write(1, nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("Server.Write after Close = %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Server.Close = %v", err)
		}
	})
}

func TestServerCloseConnStillDelivers(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		s, addr := startServer(t, n, fastParams())
		c := startClient(t, n, addr, 0, fastParams())
		if err := c.Write([]byte("hi")); err != nil {
			t.Fatal(err)
		}
		reads := serverReads(s)
		r := testutil.Recv(t, reads, eventually)
		const count = 100
		for i := range count {
			if err := s.Write(r.id, fmt.Appendf(nil, "%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		testutil.Within(t, time.Second, "CloseConn", func() {
			if err := s.CloseConn(r.id); err != nil {
				t.Errorf("CloseConn = %v", err)
			}
		})
		if err := s.CloseConn(r.id); err != nil {
			t.Fatalf("second CloseConn = %v", err)
		}
		if err := s.Write(r.id, []byte("late")); !errors.Is(err, ErrConnClosed) {
			t.Fatalf("Write after CloseConn = %v, want ErrConnClosed", err)
		}
		if err := s.CloseConn(9999); !errors.Is(err, ErrUnknownConn) {
			t.Fatalf("CloseConn(9999) = %v, want ErrUnknownConn", err)
		}
		in := clientReads(c)
		for i := range count {
			got := testutil.Recv(t, in, eventually)
			if got.err != nil || string(got.payload) != fmt.Sprint(i) {
				t.Fatalf("client read %d: %q, %v", i, got.payload, got.err)
			}
		}
		// The server forgot the connection, so the client hears nothing more and gives up.
		if got := testutil.Recv(t, in, eventually); !errors.Is(got.err, ErrConnLost) {
			t.Fatalf("client read after CloseConn: %q, %v; want ErrConnLost", got.payload, got.err)
		}
	})
}

func TestClientNoticesLostServer(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		s, addr := startServer(t, n, quickLoss())
		c := startClient(t, n, addr, 0, quickLoss())
		in := clientReads(c)
		testutil.Within(t, eventually, "Server.Close", func() { s.Close() })
		got := testutil.Recv(t, in, eventually)
		if !errors.Is(got.err, ErrConnLost) {
			t.Fatalf("Read after the server went away: %q, %v; want ErrConnLost", got.payload, got.err)
		}
		if err := c.Write([]byte("x")); !errors.Is(err, ErrConnLost) {
			t.Fatalf("Write on a lost connection = %v, want ErrConnLost", err)
		}
		testutil.Within(t, time.Second, "Close of a lost client", func() { c.Close() })
	})
}

func TestCloseReturnsWhenPeerIsLost(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		s, addr := startServer(t, n, quickLoss())
		c := startClient(t, n, addr, 0, quickLoss())
		testutil.Within(t, eventually, "Server.Close", func() { s.Close() })
		c.Write([]byte("never acked")) // may already fail: the loss can be noticed first
		var err error
		testutil.Within(t, eventually, "Client.Close", func() { err = c.Close() })
		if !errors.Is(err, ErrConnLost) && err != nil {
			t.Fatalf("Close = %v", err)
		}
	})
}

func TestServerNoticesLostClient(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		s, addr := startServer(t, n, quickLoss())
		c := startClient(t, n, addr, 0, quickLoss())
		other := startClient(t, n, addr, 0, quickLoss())
		if err := c.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		reads := serverReads(s)
		r := testutil.Recv(t, reads, eventually)
		testutil.Within(t, eventually, "Client.Close", func() { c.Close() })
		// Client.Close sends nothing, so the server learns of it from the silence.
		lost := testutil.Recv(t, reads, eventually)
		if lost.id != r.id || !errors.Is(lost.err, ErrConnLost) || lost.payload != nil {
			t.Fatalf("Read = %d, %q, %v; want %d, nil, ErrConnLost", lost.id, lost.payload, lost.err, r.id)
		}
		if err := s.Write(r.id, []byte("x")); !errors.Is(err, ErrConnClosed) {
			t.Fatalf("Write to a lost connection = %v, want ErrConnClosed", err)
		}
		// The other client's heartbeats kept it alive all along.
		if err := other.Write([]byte("still here")); err != nil {
			t.Fatal(err)
		}
		if r := testutil.Recv(t, reads, eventually); r.err != nil || string(r.payload) != "still here" {
			t.Fatalf("other client: %q, %v", r.payload, r.err)
		}
	})
}

func TestHeartbeatsKeepIdleConnectionAlive(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		p := &Params{EpochLimit: 4, EpochMillis: 40, WindowSize: 1, MaxUnackedMessages: 1}
		s, addr := startServer(t, n, p)
		c := startClient(t, n, addr, 0, p)
		in := clientReads(c)
		reads := serverReads(s)
		// Six times EpochLimit epochs with no data: neither side may give up.
		testutil.NoRecv(t, in, 24*time.Duration(p.EpochMillis)*time.Millisecond)
		if err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		r := testutil.Recv(t, reads, eventually)
		if r.err != nil || string(r.payload) != "ping" {
			t.Fatalf("server read %q, %v", r.payload, r.err)
		}
	})
}

func TestMalformedDatagramsAreIgnored(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		s, addr := startServer(t, n, fastParams())
		c := startClient(t, n, addr, 0, fastParams())
		raddr, err := lspnet.ResolveUDPAddr("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := n.DialUDP("udp", nil, raddr)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		bad := newData(c.ConnID(), 1, []byte("evil"))
		bad.Checksum++
		for _, b := range [][]byte{
			[]byte("garbage"), {}, []byte(`{"Type":9}`), []byte(`{"Type":1,"ConnID":1,"SeqNum":1,"Size":99,"Payload":"eA=="}`),
			bad.Marshal(),
			NewData(c.ConnID(), min(1<<60, math.MaxInt), 1, []byte("x"), 0).Marshal(),
			NewAck(c.ConnID(), 1).Marshal(), // right id, wrong address
			NewData(4242, 1, 1, []byte("x"), CalculateChecksum(4242, 1, 1, []byte("x"))).Marshal(),
		} {
			if _, err := raw.Write(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Write([]byte("fine")); err != nil {
			t.Fatal(err)
		}
		reads := serverReads(s)
		if r := testutil.Recv(t, reads, eventually); r.err != nil || string(r.payload) != "fine" || r.id != c.ConnID() {
			t.Fatalf("after garbage the server read %d %q %v", r.id, r.payload, r.err)
		}
	})
}

func TestWriteTooLarge(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		s, addr := startServer(t, n, fastParams())
		c := startClient(t, n, addr, 0, fastParams())
		if err := c.Write(make([]byte, MaxPayload+1)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Client.Write of %d bytes = %v, want ErrTooLarge", MaxPayload+1, err)
		}
		if err := s.Write(c.ConnID(), make([]byte, MaxPayload+1)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Server.Write of %d bytes = %v, want ErrTooLarge", MaxPayload+1, err)
		}
		big := make([]byte, MaxPayload)
		for i := range big {
			big[i] = byte(i * 7)
		}
		if err := c.Write(big); err != nil {
			t.Fatal(err)
		}
		r := testutil.Recv(t, serverReads(s), eventually)
		if r.err != nil || string(r.payload) != string(big) {
			t.Fatalf("largest payload arrived as %d bytes, %v", len(r.payload), r.err)
		}
	})
}

// TestDeadPeerDoesNotStallOthers connects a raw socket that never acks anything and has the
// server write to it; a real client must meanwhile be served as if it were alone.
func TestDeadPeerDoesNotStallOthers(t *testing.T) {
	bubble(t, func(t *testing.T, n *lspnet.Network) {
		s, addr := startServer(t, n, fastParams())
		raddr, err := lspnet.ResolveUDPAddr("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := n.DialUDP("udp", nil, raddr)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.Write(NewConnect(0).Marshal()); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Write(NewData(1, 1, 5, []byte("stuck"), CalculateChecksum(1, 1, 5, []byte("stuck"))).Marshal()); err != nil {
			t.Fatal(err)
		}
		reads := serverReads(s)
		r := testutil.Recv(t, reads, eventually)
		if r.err != nil || string(r.payload) != "stuck" {
			t.Fatalf("server read %d %q %v from the raw peer", r.id, r.payload, r.err)
		}
		for i := range 2000 { // never acked: all of it stays queued for the dead peer
			if err := s.Write(r.id, fmt.Appendf(nil, "to the void %d", i)); err != nil {
				t.Fatal(err)
			}
		}
		c := startClient(t, n, addr, 0, fastParams())
		in := clientReads(c)
		for i := range 200 {
			want := fmt.Sprint("ping ", i)
			if err := c.Write([]byte(want)); err != nil {
				t.Fatal(err)
			}
			r := testutil.Recv(t, reads, eventually)
			if r.err != nil || string(r.payload) != want || r.id != c.ConnID() {
				t.Fatalf("server read %d %q %v, want %q from %d", r.id, r.payload, r.err, want, c.ConnID())
			}
			if err := s.Write(r.id, r.payload); err != nil {
				t.Fatal(err)
			}
			if got := testutil.Recv(t, in, eventually); got.err != nil || string(got.payload) != want {
				t.Fatalf("client read %q %v, want %q", got.payload, got.err, want)
			}
		}
	})
}
