package lsp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The core tests drive one conn by hand, epoch by epoch, and compare its outbox and deliveries
// with what the protocol rules require. Datagrams are written compactly: C10 = Connect(10),
// D11 = Data seq 11, A11 = Ack 11, A0 = heartbeat, K11 = CAck 11.

func fmtOut(ms []Message) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%c%d", "CDAK"[m.Type], m.SeqNum)
	}
	return strings.Join(parts, " ")
}

func fmtDeliveries(ps [][]byte) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = string(p)
	}
	return strings.Join(parts, " ")
}

// step is one event fed to a conn and what must come out of it.
type step struct {
	event   func(c *conn)
	out     string // the outbox after the event
	deliver string // payloads delivered by the event
}

func tick(c *conn)                           { c.tick() }
func write(p string) func(*conn)             { return func(c *conn) { c.write([]byte(p)) } }
func recv(m *Message) func(*conn)            { return func(c *conn) { c.receive(m) } }
func ack(seq int) func(*conn)                { return recv(NewAck(1, seq)) }
func cack(seq int) func(*conn)               { return recv(NewCAck(1, seq)) }
func data(seq int, p string) *Message        { m := newData(1, seq, []byte(p)); return &m }
func recvData(seq int, p string) func(*conn) { return recv(data(seq, p)) }

func params(window, unacked, backoff, limit int) Params {
	return Params{EpochLimit: limit, EpochMillis: 1, WindowSize: window, MaxUnackedMessages: unacked, MaxBackOffInterval: backoff}
}

// run feeds the steps to c, failing at the first mismatch.
func run(t *testing.T, c *conn, steps []step) {
	t.Helper()
	for i, s := range steps {
		s.event(c)
		if got := fmtOut(c.outbox()); got != s.out {
			t.Fatalf("step %d: outbox %q, want %q", i, got, s.out)
		}
		if got := fmtDeliveries(c.deliveries()); got != s.deliver {
			t.Fatalf("step %d: delivered %q, want %q", i, got, s.deliver)
		}
	}
}

// established returns the server end of connection 1 from Connect(10): its data starts at 11.
func established(p Params) *conn {
	c := newServerConn(1, 10, p)
	c.outbox()
	return c
}

func TestConnSending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		p     Params
		steps []step
	}{
		{"window 1 sends one at a time", params(1, 1, 0, 5), []step{
			{write("a"), "D11", ""},
			{write("b"), "", ""},
			{ack(11), "D12", ""},
			{ack(12), "", ""},
		}},
		{"window bounds by the oldest unacked", params(2, 2, 0, 5), []step{
			{write("a"), "D11", ""},
			{write("b"), "D12", ""},
			{write("c"), "", ""},
			{ack(12), "", ""}, // 11 is still unacked: 13 is outside the window
			{ack(11), "D13", ""},
		}},
		{"unacked cap below the window", params(5, 2, 0, 5), []step{
			{write("a"), "D11", ""},
			{write("b"), "D12", ""},
			{write("c"), "", ""},
			{write("d"), "", ""},
			{ack(12), "D13", ""}, // window allows 11..15, cap allows 2 unacked
			{ack(13), "D14", ""},
			{ack(11), "", ""},
			{ack(14), "", ""},
		}},
		{"cumulative ack", params(3, 3, 0, 5), []step{
			{write("a"), "D11", ""},
			{write("b"), "D12", ""},
			{write("c"), "D13", ""},
			{write("d"), "", ""},
			{write("e"), "", ""},
			{cack(12), "D14 D15", ""},
			{cack(15), "", ""},
		}},
		{"stale, duplicate and unsent acks change nothing", params(1, 1, 0, 5), []step{
			{write("a"), "D11", ""},
			{write("b"), "", ""},
			{ack(12), "", ""}, // not sent yet
			{ack(10), "", ""}, // the connect
			{ack(11), "D12", ""},
			{ack(11), "", ""},
			{recv(NewAck(2, 12)), "", ""},  // another connection's
			{ack(0), "", ""},               // a heartbeat acks nothing
			{recvData(12, "p"), "A12", ""}, // the peer's seq 12, buffered: its Ack is ours to send
			{recvData(11, "q"), "A11", "q p"},
			{tick, "D12", ""}, // the peer's data acked nothing of ours
			{ack(12), "", ""},
		}},
		{"three acks of later sends resend a message at once", params(8, 8, 0, 5), []step{
			{write("a"), "D11", ""},
			{write("b"), "D12", ""},
			{write("c"), "D13", ""},
			{write("d"), "D14", ""},
			{write("e"), "D15", ""},
			{ack(12), "", ""},
			{ack(13), "", ""},
			{ack(14), "D11", ""},
			{ack(15), "", ""},
			{tick, "D11", ""}, // the epoch's resend; only acks of later sends count now
			{write("f"), "D16", ""},
			{write("g"), "D17", ""},
			{write("h"), "D18", ""},
			{ack(16), "", ""},
			{ack(17), "", ""},
			{ack(18), "D11", ""},
			{ack(11), "", ""},
		}},
		{"retransmit every epoch without backoff", params(2, 2, 0, 10), []step{
			{write("a"), "D11", ""},
			{tick, "D11", ""},
			{write("b"), "D12", ""},
			{tick, "D11 D12", ""},
			{ack(11), "", ""},
			{tick, "D12", ""},
			{ack(12), "", ""},
			{tick, "A0", ""}, // nothing else to say: heartbeat
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, established(tt.p), tt.steps) })
	}
}

// TestConnBackoffSchedule checks a never-acked message is resent after letting 0, 1, 2, 4, ...
// epochs pass, capped at MaxBackOffInterval, with heartbeats in the epochs between.
func TestConnBackoffSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		backoff int
		resends []int // epoch boundaries at which the message is resent
	}{
		{0, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}},
		{1, []int{1, 3, 5, 7, 9, 11, 13, 15, 17, 19}},
		{4, []int{1, 3, 6, 11, 16}},
		{8, []int{1, 3, 6, 11, 20}},
		{100, []int{1, 3, 6, 11, 20}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("cap ", tt.backoff), func(t *testing.T) {
			c := established(params(1, 1, tt.backoff, 1000))
			c.write([]byte("x"))
			if got := fmtOut(c.outbox()); got != "D11" {
				t.Fatalf("first send %q", got)
			}
			var resends []int
			for epoch := 1; epoch <= 20; epoch++ {
				c.receive(NewAck(1, 0)) // the peer's heartbeat keeps the connection alive
				c.tick()
				switch out := fmtOut(c.outbox()); out {
				case "D11":
					resends = append(resends, epoch)
				case "A0":
				default:
					t.Fatalf("epoch %d: outbox %q", epoch, out)
				}
			}
			if !slices.Equal(resends, tt.resends) {
				t.Fatalf("resent at epochs %v, want %v", resends, tt.resends)
			}
		})
	}
}

func TestConnReceiving(t *testing.T) {
	t.Parallel()
	corrupt := data(11, "hello")
	corrupt.Payload = []byte("jello")
	short := data(11, "hello")
	short.Payload = short.Payload[:3]
	long := data(11, "hello")
	long.Payload = []byte("hello, and then some")
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order, each acked by its own Ack", []step{
			{recvData(11, "a"), "A11", "a"},
			{recvData(12, "b"), "A12", "b"},
		}},
		{"reordered", []step{
			{recvData(13, "c"), "A13", ""},
			{recvData(12, "b"), "A12", ""},
			{recvData(11, "a"), "A11", "a b c"},
			{recvData(14, "d"), "A14", "d"},
		}},
		{"duplicates are re-acked, not delivered", []step{
			{recvData(11, "a"), "A11", "a"},
			{recvData(11, "a"), "A11", ""},
			{recvData(13, "c"), "A13", ""},
			{recvData(13, "c"), "A13", ""},
			{recvData(12, "b"), "A12", "b c"},
			{recvData(12, "b"), "A12", ""},
		}},
		{"empty payload", []step{
			{recvData(11, ""), "A11", ""},
			{recvData(12, "x"), "A12", "x"},
		}},
		{"damaged datagrams are dropped unacked", []step{
			{recv(corrupt), "", ""},
			{recv(short), "", ""},
			{recv(NewData(1, 11, -1, nil, 0)), "", ""},
			{recv(long), "A11", "hello"},
		}},
		{"other connections are ignored", []step{
			{recv(&Message{Type: MsgData, ConnID: 2, SeqNum: 11, Payload: []byte{}}), "", ""},
		}},
		{"huge and negative sequence numbers", []step{
			{recvData(min(1<<62, math.MaxInt), "far"), "", ""},
			{recvData(11+reorderLimit, "far"), "", ""},
			{recvData(11+reorderLimit-1, "edge"), fmt.Sprint("A", 11+reorderLimit-1), ""},
			{recvData(10, "before the first"), "", ""},
			{recvData(-5, "negative"), "", ""},
			{recvData(11, "a"), "A11", "a"},
		}},
		{"duplicate connect is re-acked", []step{
			{recv(NewConnect(9)), "", ""}, // another request; the server loop never routes one here
			{recv(NewConnect(10)), "A10", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, established(params(1, 1, 0, 5)), tt.steps) })
	}
}

func TestConnCounts(t *testing.T) {
	t.Parallel()
	c := established(params(1, 1, 0, 5))
	bad := data(11, "x")
	bad.Checksum++
	for _, m := range []*Message{bad, data(min(1<<40, math.MaxInt), "x"), {Type: MsgAck, ConnID: 7, SeqNum: 1}, data(11, "x"), data(11, "x")} {
		c.receive(m)
	}
	want := connStats{Corrupt: 1, OutOfRange: 1, WrongConn: 1, Received: 1, Delivered: 1, Duplicates: 1}
	if c.stats != want {
		t.Fatalf("stats %+v, want %+v", c.stats, want)
	}
}

func TestHeartbeatsAndLoss(t *testing.T) {
	t.Parallel()
	c := established(params(1, 1, 0, 3))
	run(t, c, []step{
		{tick, "", ""},   // the Ack accepting the connection went out in this epoch
		{tick, "A0", ""}, // nothing did in this one
		{ack(0), "", ""}, // heard: the silence count starts again
		{tick, "A0", ""},
		{tick, "A0", ""},
		{write("x"), "D11", ""},
		{tick, "", ""}, // third silent epoch: lost, and a lost connection sends nothing
		{tick, "", ""},
		{write("y"), "", ""},
		{recvData(11, "z"), "", ""},
	})
	if !c.lost {
		t.Fatal("not lost after EpochLimit silent epochs")
	}
}

func TestClientHandshake(t *testing.T) {
	t.Parallel()
	p := params(1, 1, 0, 3)
	c := newClientConn(10, p)
	run(t, c, []step{
		{func(*conn) {}, "C10", ""},
		{tick, "C10", ""},
		{recv(NewAck(5, 9)), "", ""},    // not our connect
		{recvData(11, "early"), "", ""}, // no connection yet
		{recv(NewAck(5, 10)), "", ""},   // accepted as connection 5
		{write("a"), "D11", ""},
		{recv(&Message{Type: MsgAck, ConnID: 5, SeqNum: 11}), "", ""},
		{tick, "", ""},
		{tick, "A0", ""},
	})
	if c.id != 5 || c.connecting {
		t.Fatalf("after the ack: id %d connecting %v", c.id, c.connecting)
	}

	c = newClientConn(10, p)
	run(t, c, []step{
		{func(*conn) {}, "C10", ""},
		{tick, "C10", ""},
		{tick, "C10", ""},
		{tick, "", ""},
	})
	if !c.lost {
		t.Fatal("connect not given up after EpochLimit epochs")
	}
}

func TestServerConnAcksConnect(t *testing.T) {
	t.Parallel()
	c := newServerConn(3, 0, params(1, 1, 0, 5))
	if got := fmtOut(c.outbox()); got != "A0" {
		t.Fatalf("outbox %q", got) // an Ack of initial sequence number 0, which the client awaits
	}
	if c.snd.base != 1 || c.rcv.next != 1 {
		t.Fatalf("data starts at %d/%d, want 1", c.snd.base, c.rcv.next)
	}
}

func TestConnClose(t *testing.T) {
	t.Parallel()
	c := established(params(2, 2, 0, 5))
	c.write([]byte("a"))
	c.write([]byte("b"))
	c.close()
	c.write([]byte("late"))
	if c.done() {
		t.Fatal("done with two messages unacked")
	}
	c.receive(NewAck(1, 12))
	c.receive(NewAck(1, 11))
	if !c.done() {
		t.Fatal("not done after every message was acked")
	}
	if got := fmtOut(c.outbox()); got != "D11 D12" {
		t.Fatalf("outbox %q: the write after close was sent", got)
	}
}

// TestConnPairRandomNetwork runs two conns against each other over a network that drops,
// duplicates and reorders at random, and checks the invariants the protocol promises.
func TestConnPairRandomNetwork(t *testing.T) {
	t.Parallel()
	for seed := range uint64(40) {
		checkPair(t, seed, 0.3, 0.2, 200)
	}
}

// FuzzConnPair feeds random event orders, parameters and network behaviour (drop and
// duplication rates in percent) to a pair of conns.
func FuzzConnPair(f *testing.F) {
	f.Add(uint64(1), uint8(30), uint8(20))
	f.Add(uint64(2), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, seed uint64, drop, dup uint8) {
		checkPair(t, seed, float64(drop%90)/100, float64(dup%90)/100, 60)
	})
}

// checkPair is the body of the random tests. Every message written must be delivered exactly
// once and in order, the sender must never exceed the window or the unacked cap, and both
// sides must finish without losing the connection (the simulated network always recovers).
func checkPair(t *testing.T, seed uint64, drop, dup float64, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 99))
	p := params(1+r.IntN(8), 1+r.IntN(8), r.IntN(4), 1000)
	cli := newClientConn(int(seed%5), p)
	var srv *conn
	type inflight struct {
		m     Message
		toSrv bool
	}
	var net []inflight
	post := func(from *conn, toSrv bool) {
		for _, m := range from.outbox() {
			if m.Type == MsgData {
				checkWindow(t, from, m.SeqNum)
			}
			m.Payload = slices.Clone(m.Payload)
			for r.Float64() >= drop && len(net) < 500 { // a full queue drops too
				net = append(net, inflight{m, toSrv})
				if r.Float64() >= dup {
					break
				}
			}
		}
	}
	var gotSrv, gotCli []string
	wrote := 0
	for step := 0; step < 5000*n && (len(gotSrv) < n || len(gotCli) < n); step++ {
		post(cli, true)
		if srv != nil {
			post(srv, false)
		}
		switch k := r.IntN(10); {
		case k < 2 && srv != nil && !cli.connecting && wrote < n:
			cli.write(fmt.Appendf(nil, "c%d", wrote))
			srv.write(fmt.Appendf(nil, "s%d", wrote))
			wrote++
		case k < 3:
			cli.tick()
			if srv != nil {
				srv.tick()
			}
		case len(net) > 0:
			i := r.IntN(len(net)) // any datagram in flight may arrive next: reordering
			d := net[i]
			net[i] = net[len(net)-1]
			net = net[:len(net)-1]
			m := d.m
			switch {
			case !d.toSrv:
				cli.receive(&m)
			case srv == nil && m.Type == MsgConnect:
				srv = newServerConn(1, m.SeqNum, p)
			case srv != nil:
				srv.receive(&m)
			}
		}
		for _, b := range cli.deliveries() {
			gotCli = append(gotCli, string(b))
		}
		if srv != nil {
			for _, b := range srv.deliveries() {
				gotSrv = append(gotSrv, string(b))
			}
		}
		if cli.lost || (srv != nil && srv.lost) {
			t.Fatalf("seed %d: connection lost on a network that always recovers", seed)
		}
	}
	for i := range n {
		if i >= len(gotSrv) || gotSrv[i] != fmt.Sprint("c", i) || i >= len(gotCli) || gotCli[i] != fmt.Sprint("s", i) {
			t.Fatalf("seed %d %v: server got %v, client got %v", seed, p.String(), gotSrv, gotCli)
		}
	}
	if len(gotSrv) != n || len(gotCli) != n {
		t.Fatalf("seed %d: delivered %d/%d, want %d each", seed, len(gotSrv), len(gotCli), n)
	}
}

// checkWindow fails if data message seq leaves c's window or its unacked cap.
func checkWindow(t *testing.T, c *conn, seq int) {
	t.Helper()
	if seq >= c.snd.base+c.p.WindowSize {
		t.Fatalf("sent %d with oldest unacked %d and window %d", seq, c.snd.base, c.p.WindowSize)
	}
	if c.snd.unacked > c.p.MaxUnackedMessages {
		t.Fatalf("%d unacked, cap %d", c.snd.unacked, c.p.MaxUnackedMessages)
	}
}

// BenchmarkConnRoundTrip measures the core alone: one message written on one end, encoded,
// decoded and delivered on the other, and its ack carried back, all through the wire format.
func BenchmarkConnRoundTrip(b *testing.B) {
	p := params(64, 64, 0, 1000)
	a := newServerConn(1, 0, p)
	z := newClientConn(0, p)
	z.receive(NewAck(1, 0))
	a.outbox()
	z.outbox()
	payload := make([]byte, 1024)
	var buf []byte
	var m Message
	carry := func(from, to *conn) {
		for _, out := range from.outbox() {
			buf = out.AppendMarshal(buf[:0])
			if err := Unmarshal(buf, &m); err != nil {
				b.Fatal(err)
			}
			to.receive(&m)
		}
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		a.write(payload)
		carry(a, z)
		if len(z.deliveries()) != 1 {
			b.Fatal("not delivered")
		}
		carry(z, a)
	}
	if !a.snd.idle() {
		b.Fatal("messages left unacked")
	}
}

// TestSendWindowLongQueue drains a long queue through a small window, acking out of order,
// which exercises moving the front of the queue and compacting its storage.
func TestSendWindowLongQueue(t *testing.T) {
	t.Parallel()
	w := newSendWindow(1, params(4, 4, 0, 5))
	const n = 1000
	for i := range n {
		w.push([]byte{byte(i)})
	}
	var out []Message
	next := 1
	for next <= n {
		out = w.fill(1, out[:0])
		for i := len(out) - 1; i >= 0; i-- { // acks arrive newest first
			if out[i].SeqNum >= next+4 || out[i].Payload[0] != byte(out[i].SeqNum-1) {
				t.Fatalf("sent %v with base %d", &out[i], next)
			}
			w.ack(1, out[i].SeqNum, nil)
		}
		next += len(out)
		if w.base != next || w.queued() != n-next+1 {
			t.Fatalf("base %d queued %d after acking through %d", w.base, w.queued(), next-1)
		}
	}
	if !w.idle() || w.head != 0 || len(w.q) != 0 {
		t.Fatalf("drained window: head %d len %d", w.head, len(w.q))
	}
}

// TestAcksNotCoalesced feeds several messages before taking the outbox, as the loops do with
// a burst: each one, duplicates included, still gets its own Ack, in arrival order, and no
// CAck is ever sent.
func TestAcksNotCoalesced(t *testing.T) {
	t.Parallel()
	c := established(params(8, 8, 0, 5))
	for _, seq := range []int{12, 11, 13, 15, 12, 17} {
		c.receive(data(seq, fmt.Sprint(seq)))
	}
	if got, want := fmtOut(c.outbox()), "A12 A11 A13 A15 A12 A17"; got != want {
		t.Fatalf("outbox %q, want %q", got, want)
	}
	if got := fmtDeliveries(c.deliveries()); got != "11 12 13" {
		t.Fatalf("delivered %q", got)
	}
	c.receive(data(14, "14"))
	c.receive(data(16, "16"))
	if got, want := fmtOut(c.outbox()), "A14 A16"; got != want {
		t.Fatalf("outbox %q, want %q", got, want)
	}
}
