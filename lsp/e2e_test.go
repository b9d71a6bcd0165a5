package lsp_test

// End-to-end tests of the real Client and Server, each test on an in-memory lspnet network of
// its own under testing/synctest, with faults injected by that network's controls and the
// wire observed through its tap. Each test owns its network, so they all run in parallel.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
	"ds440/lsp"
	"ds440/lsp/lspnet"
)

// wait bounds every "eventually" in these tests: generous, because the machine may be loaded,
// and never reached when the code is right.
const wait = 20 * time.Second

func params(epochMillis, epochLimit, window, unacked, backoff int) *lsp.Params {
	return &lsp.Params{
		EpochMillis: epochMillis, EpochLimit: epochLimit, WindowSize: window,
		MaxUnackedMessages: unacked, MaxBackOffInterval: backoff,
	}
}

// epochs is n epochs of p as a duration.
func epochs(p *lsp.Params, n int) time.Duration {
	return time.Duration(n*p.EpochMillis) * time.Millisecond
}

// bubble runs test in parallel with the others, under testing/synctest, on a fresh in-memory
// network with faults of its own: epochs cost no real time, nothing depends on the machine's
// load, and synctest fails a test that leaves a goroutine blocked (a leak).
func bubble(t *testing.T, test func(t *testing.T, nw *lspnet.Network)) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { test(t, lspnet.NewMemNetwork()) })
}

// startServer starts a server on a free port of nw and returns it with the address clients
// dial. Close is left to the test, or to a cleanup that bounds it.
func startServer(t *testing.T, nw *lspnet.Network, p *lsp.Params) (lsp.Server, string) {
	t.Helper()
	s, err := lsp.NewServerWith(0, p, lsp.WithListen(nw.ListenUDP))
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	_, port, err := lspnet.SplitHostPort(s.(interface{ Addr() string }).Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeWithin(t, "Server.Close", s.Close) })
	return s, lspnet.JoinHostPort("127.0.0.1", port)
}

func dial(t *testing.T, nw *lspnet.Network, hostport string, isn int, p *lsp.Params) lsp.Client {
	t.Helper()
	c, err := lsp.NewClientWith(hostport, isn, p, lsp.WithDial(nw.DialUDP))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { closeWithin(t, "Client.Close", c.Close) })
	return c
}

// closeWithin calls a Close that must return within wait whatever its result.
func closeWithin(t *testing.T, what string, close func() error) {
	testutil.Within(t, wait, what, func() { close() })
}

// count installs a tap on nw counting, for each match, the datagrams it is true for, and
// removes the tap when the test ends. There is one tap per network, so call it once per test.
func count(t *testing.T, nw *lspnet.Network, matches ...func(lspnet.Datagram, lspnet.Frame) bool) []*atomic.Int64 {
	ns := make([]*atomic.Int64, len(matches))
	for i := range ns {
		ns[i] = new(atomic.Int64)
	}
	t.Cleanup(nw.SetTap(func(d lspnet.Datagram) {
		f, err := lspnet.ParseFrame(d.Data)
		if err != nil {
			return
		}
		for i, match := range matches {
			if match(d, f) {
				ns[i].Add(1)
			}
		}
	}))
	return ns
}

// serverReads runs server.Read in a goroutine until it fails, handing each result over.
type readResult struct {
	id      int
	payload []byte
	err     error
}

func serverReads(s lsp.Server) <-chan readResult {
	ch := make(chan readResult, 1<<16)
	go func() {
		for {
			id, p, err := s.Read()
			ch <- readResult{id, p, err}
			if errors.Is(err, lsp.ErrClosed) {
				close(ch)
				return
			}
		}
	}()
	return ch
}

func clientReads(c lsp.Client) <-chan readResult {
	ch := make(chan readResult, 1<<16)
	go func() {
		for {
			p, err := c.Read()
			ch <- readResult{payload: p, err: err}
			if err != nil {
				close(ch)
				return
			}
		}
	}()
	return ch
}

func expectPayload(t *testing.T, ch <-chan readResult, want string) readResult {
	t.Helper()
	r := testutil.Recv(t, ch, wait)
	if r.err != nil || string(r.payload) != want {
		t.Fatalf("read (%d, %q, %v), want %q", r.id, r.payload, r.err, want)
	}
	return r
}

// dialed is the outcome of a NewClient run in the background.
type dialed struct {
	c   lsp.Client
	err error
}

// dialAsync runs NewClient in the background, for tests that act on the network while it
// connects.
func dialAsync(nw *lspnet.Network, addr string, isn int, p *lsp.Params) <-chan dialed {
	done := make(chan dialed, 1)
	go func() {
		c, err := lsp.NewClientWith(addr, isn, p, lsp.WithDial(nw.DialUDP))
		done <- dialed{c, err}
	}()
	return done
}

// awaitDial waits for a dialAsync, failing the test if it failed, and closes the client when
// the test ends.
func awaitDial(t *testing.T, ch <-chan dialed) lsp.Client {
	t.Helper()
	d := testutil.Recv(t, ch, wait)
	if d.err != nil {
		t.Fatalf("NewClient: %v", d.err)
	}
	t.Cleanup(func() { closeWithin(t, "Client.Close", d.c.Close) })
	return d.c
}

// firstWrite checks that a message from c reaches s as c's connection.
func firstWrite(t *testing.T, s lsp.Server, c lsp.Client) {
	t.Helper()
	reads := serverReads(s)
	c.Write([]byte("first"))
	if r := expectPayload(t, reads, "first"); r.id != c.ConnID() {
		t.Fatalf("server read conn %d, client is %d", r.id, c.ConnID())
	}
}

func TestHandshakeLostConnect(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(20, 20, 1, 1, 0)
		s, addr := startServer(t, nw, p)
		lostConnects := count(t, nw, func(d lspnet.Datagram, f lspnet.Frame) bool {
			return d.Side == lspnet.Client && d.Op == lspnet.Write && d.Dropped && f.Type == lspnet.TypeConnect
		})[0]
		nw.SetClientWriteDropPercent(100)
		done := dialAsync(nw, addr, 100, p)
		testutil.Eventually(t, wait, func() bool { return lostConnects.Load() >= 3 }, "3 Connects lost")
		nw.ResetDropPercent()
		firstWrite(t, s, awaitDial(t, done))
	})
}

func TestHandshakeLostAck(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(20, 20, 1, 1, 0)
		s, addr := startServer(t, nw, p)
		var acks, lostAcks atomic.Int64
		ackIDs := make(chan int, 1000)
		t.Cleanup(nw.SetTap(func(d lspnet.Datagram) {
			f, err := lspnet.ParseFrame(d.Data)
			if err != nil || d.Side != lspnet.Server || d.Op != lspnet.Write || f.Type != lspnet.TypeAck || f.SeqNum != 100 {
				return
			}
			acks.Add(1)
			if d.Dropped {
				lostAcks.Add(1)
			}
			select {
			case ackIDs <- f.ConnID:
			default:
			}
		}))
		nw.SetServerWriteDropPercent(100)
		done := dialAsync(nw, addr, 100, p)
		testutil.Eventually(t, wait, func() bool { return lostAcks.Load() >= 3 }, "3 Acks of Connect lost")
		nw.ResetDropPercent()
		c := awaitDial(t, done)
		// Every Connect was answered for the same connection: the resends made no new one.
		for range acks.Load() {
			if id := <-ackIDs; id != c.ConnID() {
				t.Fatalf("server acked a Connect as conn %d, client has %d", id, c.ConnID())
			}
		}
		firstWrite(t, s, c)
	})
}

// rawPeer is a socket speaking LSP by hand, to send what a real peer never would.
type rawPeer struct {
	t    *testing.T
	conn *lspnet.UDPConn
	buf  []byte
}

func dialRaw(t *testing.T, nw *lspnet.Network, addr string) *rawPeer {
	t.Helper()
	ra, err := lspnet.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := nw.DialUDP("udp", nil, ra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t: t, conn: c, buf: make([]byte, 1<<16)}
}

func (r *rawPeer) send(m *lsp.Message) {
	b, err := json.Marshal(m)
	if err != nil {
		r.t.Fatal(err)
	}
	r.conn.Write(b)
}

func (r *rawPeer) sendRaw(b []byte) { r.conn.Write(b) }

// next returns the next message the raw peer reads for which keep is true.
func (r *rawPeer) next(keep func(lsp.Message) bool) lsp.Message {
	r.t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(wait))
	for {
		n, err := r.conn.Read(r.buf)
		if err != nil {
			r.t.Fatalf("raw peer read: %v", err)
		}
		var m lsp.Message
		if json.Unmarshal(r.buf[:n], &m) == nil && keep(m) {
			return m
		}
	}
}

func isType(t lsp.MsgType) func(lsp.Message) bool {
	return func(m lsp.Message) bool { return m.Type == t && (t != lsp.MsgAck || m.SeqNum != 0) }
}

// acks matches the acknowledgement of data message seq: its own Ack(seq), as the contract
// requires (ds440 never sends CAcks).
func acks(seq int) func(lsp.Message) bool {
	return func(m lsp.Message) bool { return m.Type == lsp.MsgAck && m.SeqNum == seq }
}

func data(connID, seq int, payload string) *lsp.Message {
	b := []byte(payload)
	return lsp.NewData(connID, seq, len(b), b, lsp.CalculateChecksum(connID, seq, len(b), b))
}

// TestDuplicateConnect checks that one client address and initial sequence number make one
// connection however often its Connect arrives, while another address gets its own.
func TestDuplicateConnect(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(50, 20, 1, 1, 0)
		s, addr := startServer(t, nw, p)
		reads := serverReads(s)
		a := dialRaw(t, nw, addr)
		var id int
		for i := range 3 {
			a.send(lsp.NewConnect(7))
			ack := a.next(isType(lsp.MsgAck))
			if ack.SeqNum != 7 || ack.ConnID == 0 || (i > 0 && ack.ConnID != id) {
				t.Fatalf("Connect %d acked as %v; first was conn %d", i, &ack, id)
			}
			id = ack.ConnID
		}
		b := dialRaw(t, nw, addr)
		b.send(lsp.NewConnect(7))
		if ack := b.next(isType(lsp.MsgAck)); ack.ConnID == id || ack.SeqNum != 7 {
			t.Fatalf("a second client got %v, the same connection as the first (%d)", &ack, id)
		}
		a.send(data(id, 8, "one"))
		if r := expectPayload(t, reads, "one"); r.id != id {
			t.Fatalf("data arrived as conn %d, want %d", r.id, id)
		}
		a.next(acks(8))
		a.send(lsp.NewConnect(7)) // a late duplicate of the Connect after data: still the same
		if ack := a.next(isType(lsp.MsgAck)); ack.ConnID != id || ack.SeqNum != 7 {
			t.Fatalf("late duplicate Connect acked as %v", &ack)
		}
		a.send(data(id, 9, "two"))
		expectPayload(t, reads, "two")
	})
}

// TestNewClientNoServer checks that NewClient gives up after EpochLimit epochs of silence,
// having sent a Connect every epoch.
func TestNewClientNoServer(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(20, 5, 1, 1, 0)
		// A socket that reads and never answers: a dead server, without ICMP errors.
		la, _ := lspnet.ResolveUDPAddr("udp", "127.0.0.1:0")
		silent, err := nw.ListenUDP("udp", la)
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		connects := count(t, nw, func(d lspnet.Datagram, f lspnet.Frame) bool {
			return d.Side == lspnet.Client && d.Op == lspnet.Write && f.Type == lspnet.TypeConnect
		})[0]
		start := time.Now()
		var c lsp.Client
		testutil.Within(t, wait, "NewClient", func() { c, err = lsp.NewClientWith(silent.LocalAddr().String(), 0, p, lsp.WithDial(nw.DialUDP)) })
		elapsed := time.Since(start)
		if err == nil {
			c.Close()
			t.Fatal("NewClient succeeded with no server")
		}
		if !errors.Is(err, lsp.ErrNoServer) {
			t.Errorf("NewClient: %v, want ErrNoServer", err)
		}
		if elapsed < epochs(p, p.EpochLimit-1) {
			t.Errorf("NewClient gave up after %v, before %d epochs", elapsed, p.EpochLimit)
		}
		if n := connects.Load(); n < int64(p.EpochLimit-1) || n > int64(p.EpochLimit+1) {
			t.Errorf("%d Connects sent, want one per epoch for %d epochs", n, p.EpochLimit)
		}
	})
}

// TestNewClientBadAddress is outside any synctest bubble: resolving a named port may consult
// the system's resolver, which waits on the runtime's own channels.
func TestNewClientBadAddress(t *testing.T) {
	t.Parallel()
	if _, err := lsp.NewClientWith("127.0.0.1:not-a-port", 0, nil, lsp.WithDial(lspnet.NewMemNetwork().DialUDP)); err == nil {
		t.Error("NewClient with a bad address succeeded")
	}
}

// TestHeartbeatsKeepIdleAlive leaves a connection idle for many times EpochLimit epochs: the
// heartbeats alone must keep both ends from declaring it lost.
func TestHeartbeatsKeepIdleAlive(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(20, 4, 1, 1, 0)
		s, addr := startServer(t, nw, p)
		sreads := serverReads(s)
		c := dial(t, nw, addr, 0, p)
		creads := clientReads(c)
		beats := func(side lspnet.Side) func(lspnet.Datagram, lspnet.Frame) bool {
			return func(d lspnet.Datagram, f lspnet.Frame) bool {
				return d.Side == side && d.Op == lspnet.Write && f.IsHeartbeat()
			}
		}
		n := count(t, nw, beats(lspnet.Client), beats(lspnet.Server))
		cb, sbeats := n[0], n[1]
		const idle = 40 // epochs, 10 times EpochLimit
		if !testutil.WaitUntil(wait, func() bool { return cb.Load() >= idle && sbeats.Load() >= idle }) {
			t.Fatalf("%d client and %d server heartbeats, want %d each", cb.Load(), sbeats.Load(), idle)
		}
		select {
		case r := <-sreads:
			t.Fatalf("server read %v from an idle connection", r)
		case r := <-creads:
			t.Fatalf("client read %v from an idle connection", r)
		default:
		}
		if err := c.Write([]byte("still here")); err != nil {
			t.Fatal(err)
		}
		expectPayload(t, sreads, "still here")
		s.Write(c.ConnID(), []byte("me too"))
		expectPayload(t, creads, "me too")
	})
}

// TestSilentPeerLost cuts a connection in both directions: both ends must declare it lost
// within a few EpochLimits, the server naming the connection.
func TestSilentPeerLost(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(10, 5, 4, 4, 1)
		s, addr := startServer(t, nw, p)
		sreads := serverReads(s)
		c := dial(t, nw, addr, 0, p)
		creads := clientReads(c)
		c.Write([]byte("hello"))
		expectPayload(t, sreads, "hello")

		nw.SetClientReadDropPercent(100)
		nw.SetServerReadDropPercent(100)
		start := time.Now()
		c.Write([]byte("into the void")) // pending data must not keep the connection alive
		r := testutil.Recv(t, sreads, wait)
		if r.err == nil || r.id != c.ConnID() || r.payload != nil {
			t.Fatalf("server read (%d, %q, %v), want conn %d lost", r.id, r.payload, r.err, c.ConnID())
		}
		if !errors.Is(r.err, lsp.ErrConnLost) {
			t.Errorf("server's error %v, want ErrConnLost", r.err)
		}
		cr := testutil.Recv(t, creads, wait)
		if cr.err == nil {
			t.Fatalf("client read %q from a lost connection", cr.payload)
		}
		if elapsed := time.Since(start); elapsed < epochs(p, p.EpochLimit-1) {
			t.Errorf("declared lost after %v, under %d epochs", elapsed, p.EpochLimit)
		}
		if err := c.Write([]byte("x")); err == nil {
			t.Error("Write on a lost connection succeeded")
		}
		if err := s.Write(c.ConnID(), []byte("x")); err == nil {
			t.Error("Server.Write to a lost connection succeeded")
		}
		nw.ResetDropPercent()
		if err := c.Close(); err == nil {
			t.Error("Close of a lost connection with unacked data returned nil")
		}
	})
}

// TestCloseWaitsForAcks writes through a lossy window of 1, closes, and checks that once Close
// returns the server already holds every message: Close waited for every ack.
func TestCloseWaitsForAcks(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(10, 50, 1, 1, 1)
		s, addr := startServer(t, nw, p)
		c := dial(t, nw, addr, 0, p)
		nw.SetClientWriteDropPercent(20)
		nw.SetClientReadDropPercent(20)
		const n = 100
		for i := range n {
			if err := c.Write([]byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := c.Write([]byte("late")); err == nil {
			t.Error("Write after Close succeeded")
		}
		if _, err := c.Read(); err == nil {
			t.Error("Read after Close succeeded")
		}
		// Everything was acked, so the server has it all without any more network.
		nw.SetServerReadDropPercent(100)
		reads := serverReads(s)
		for i := range n {
			expectPayload(t, reads, strconv.Itoa(i))
		}
	})
}

// TestCloseReturnsWhenPeerLost closes a client whose server has gone silent with data pending:
// Close must give up once the connection is lost.
func TestCloseReturnsWhenPeerLost(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(10, 5, 1, 1, 0)
		_, addr := startServer(t, nw, p)
		c := dial(t, nw, addr, 0, p)
		nw.SetClientReadDropPercent(100)
		nw.SetClientWriteDropPercent(100)
		c.Write([]byte("never acked"))
		var err error
		testutil.Within(t, wait, "Close with a silent server", func() { err = c.Close() })
		if !errors.Is(err, lsp.ErrConnLost) {
			t.Fatalf("Close: %v, want ErrConnLost", err)
		}
	})
}

// TestServerCloseConn checks that CloseConn returns at once, that what was written before it is
// still delivered, and that it and Close are safe to repeat.
func TestServerCloseConn(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(10, 50, 1, 1, 1)
		s, addr := startServer(t, nw, p)
		c := dial(t, nw, addr, 0, p)
		creads := clientReads(c)
		nw.SetServerWriteDropPercent(20)
		const n = 50
		id := c.ConnID()
		for i := range n {
			if err := s.Write(id, []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		// With a window of 1 and loss, delivering n messages takes many epochs; CloseConn must
		// not wait for them.
		testutil.Within(t, epochs(p, n/2)+time.Second, "CloseConn", func() {
			if err := s.CloseConn(id); err != nil {
				t.Errorf("CloseConn: %v", err)
			}
		})
		if err := s.CloseConn(id); err != nil {
			t.Errorf("second CloseConn: %v", err)
		}
		if err := s.Write(id, []byte("late")); err == nil {
			t.Error("Write after CloseConn succeeded")
		}
		if err := s.CloseConn(12345); err == nil {
			t.Error("CloseConn of an unknown connection succeeded")
		}
		for i := range n {
			expectPayload(t, creads, strconv.Itoa(i))
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, _, err := s.Read(); err == nil {
			t.Error("Read after Close succeeded")
		}
		if err := s.Write(id, []byte("x")); err == nil {
			t.Error("Write after Close succeeded")
		}
	})
}

// TestServerCloseWaitsForAllClients writes to several clients through loss, closes the server
// and checks every client then receives everything: Close waited for every ack.
func TestServerCloseWaitsForAllClients(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(10, 50, 2, 2, 1)
		s, addr := startServer(t, nw, p)
		const clients, n = 4, 30
		var reads []<-chan readResult
		var ids []int
		for i := range clients {
			c := dial(t, nw, addr, i*1000, p)
			reads = append(reads, clientReads(c))
			ids = append(ids, c.ConnID())
		}
		nw.SetServerWriteDropPercent(20)
		for i := range n {
			for _, id := range ids {
				s.Write(id, []byte(fmt.Sprint(id, ":", i)))
			}
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for k, id := range ids {
			for i := range n {
				expectPayload(t, reads[k], fmt.Sprint(id, ":", i))
			}
		}
	})
}
