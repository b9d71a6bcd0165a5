package lsp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"ds440/internal/testutil"
	"ds440/lsp"
	"ds440/lsp/lspnet"
)

// TestBackoffSchedule cuts the acks of one message and reads its retransmissions off the wire.
// With nothing else to send, a client emits one datagram per epoch, a retransmission or else a
// heartbeat, so the heartbeats between two retransmissions count the epochs it let pass: they
// must be 0, 1, 2, 4, ... capped at MaxBackOffInterval.
func TestBackoffSchedule(t *testing.T) {
	for _, maxBackoff := range []int{0, 3, 8} {
		t.Run(fmt.Sprint("cap", maxBackoff), func(t *testing.T) {
			bubble(t, func(t *testing.T, nw *lspnet.Network) {
				p := params(20, 1000, 1, 1, maxBackoff)
				_, addr := startServer(t, nw, p)
				c := dial(t, nw, addr, 0, p)

				want := []int{0}
				for iv := 0; len(want) < 6; {
					iv = min(max(2*iv, 1), maxBackoff)
					want = append(want, iv)
				}
				frames := make(chan lspnet.Frame, 1000)
				t.Cleanup(nw.SetTap(func(d lspnet.Datagram) {
					if d.Side != lspnet.Client || d.Op != lspnet.Write {
						return
					}
					if f, err := lspnet.ParseHeader(d.Data); err == nil {
						select {
						case frames <- f:
						default:
						}
					}
				}))
				nw.SetServerReadDropPercent(100) // the server never sees the message, so never acks it
				if err := c.Write([]byte("unlucky")); err != nil {
					t.Fatal(err)
				}
				var got []int
				beats := -1 // until the first send
				for len(got) < len(want) {
					f := testutil.Recv(t, frames, wait)
					switch {
					case f.IsData() && beats < 0:
						beats = 0
					case f.IsData():
						got = append(got, beats)
						beats = 0
					case f.IsHeartbeat() && beats >= 0:
						beats++
					case beats >= 0:
						t.Fatalf("unexpected %v from an otherwise idle client", f)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("epochs between retransmissions %v, want %v", got, want)
				}
				nw.ResetDropPercent() // let the message through so that Close returns
			})
		})
	}
}

// TestWindowOnTheWire checks the window and the unacked cap, in each combination, from the
// datagrams on the wire under loss and reordering.
func TestWindowOnTheWire(t *testing.T) {
	for _, tc := range []struct{ window, unacked int }{{1, 1}, {8, 3}, {3, 8}, {64, 64}} {
		t.Run(fmt.Sprintf("w%d-u%d", tc.window, tc.unacked), func(t *testing.T) {
			n := network{name: t.Name(), drop: 20, delay: 20, clients: 2, perClient: 150}
			exchange(t, n, params(20, 50, tc.window, tc.unacked, 2))
		})
	}
}

// rawServer is a socket playing an LSP server by hand.
type rawServer struct {
	t    *testing.T
	conn *lspnet.UDPConn
	peer *lspnet.UDPAddr
	buf  []byte
}

func listenRaw(t *testing.T, nw *lspnet.Network) *rawServer {
	la, _ := lspnet.ResolveUDPAddr("udp", "127.0.0.1:0")
	c, err := nw.ListenUDP("udp", la)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawServer{t: t, conn: c, buf: make([]byte, 1<<16)}
}

func (r *rawServer) next(keep func(lsp.Message) bool) lsp.Message {
	r.t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(wait))
	for {
		n, from, err := r.conn.ReadFromUDP(r.buf)
		if err != nil {
			r.t.Fatalf("raw server read: %v", err)
		}
		r.peer = from
		var m lsp.Message
		if json.Unmarshal(r.buf[:n], &m) == nil && keep(m) {
			return m
		}
	}
}

func (r *rawServer) sendRaw(b []byte) { r.conn.WriteToUDP(b, r.peer) }

func (r *rawServer) send(m *lsp.Message) {
	b, _ := json.Marshal(m)
	r.sendRaw(b)
}

// malformed returns the datagrams a broken or hostile peer of connection id might send while
// the receiver expects data seq next: none may crash, stall or be delivered.
func malformed(id, next int) [][]byte {
	enc := func(m *lsp.Message) []byte {
		b, _ := json.Marshal(m)
		return b
	}
	good := func(id, seq int, p string) *lsp.Message { return data(id, seq, p) }
	shortened := good(id, next, "shortened")
	shortened.Payload = shortened.Payload[:4] // Size now exceeds the payload
	corrupted := good(id, next, "corrupted")
	corrupted.Payload[0] ^= 0x20 // checksum no longer matches
	negSize := good(id, next, "x")
	negSize.Size = -1
	return [][]byte{
		nil,
		[]byte("garbage"),
		[]byte{0xff, 0x00, 0x7b},
		[]byte("{}"),
		[]byte(`{"Type":"data"}`),
		[]byte(`{"Type":1,"ConnID":1,"SeqNum":1e400}`),
		[]byte(`{"Type":1,"Payload":"not base64!"}`),
		[]byte(`[1,2,3]`),
		[]byte(strings.Repeat("A", 60000)),
		enc(shortened),
		enc(corrupted),
		enc(negSize),
		enc(good(id+1000, next, "wrong connection")),
		enc(good(-id, next, "negative connection")),
		enc(good(id, min(1<<62, math.MaxInt), "huge seq")),
		enc(good(id, math.MaxInt, "max seq")),
		enc(good(id, math.MinInt, "min seq")),
		enc(good(id, next+1_000_000, "far ahead")),
		enc(&lsp.Message{Type: 99, ConnID: id, SeqNum: next}),
		enc(lsp.NewAck(id, math.MaxInt)),
		enc(lsp.NewCAck(id, math.MaxInt)),
		enc(lsp.NewCAck(id, math.MinInt)),
		enc(lsp.NewAck(id+1000, 0)),
	}
}

// lengthened is a data message whose payload runs past its Size, with the checksum of the
// first Size bytes: the receiver delivers those.
func lengthened(id, seq int) *lsp.Message {
	m := data(id, seq, "hello")
	m.Payload = []byte("hello, and then some junk")
	return m
}

// TestMalformedToServer has a hand-made client send the server every kind of bad datagram in
// the middle of a connection, while a real client uses the same server. Nothing may crash or
// stall: afterwards both connections carry data as before, and only valid data was delivered.
func TestMalformedToServer(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(20, 50, 4, 4, 1)
		s, addr := startServer(t, nw, p)
		reads := serverReads(s)
		c := dial(t, nw, addr, 0, p)
		creads := clientReads(c)
		raw := dialRaw(t, nw, addr)
		raw.send(lsp.NewConnect(50))
		id := raw.next(isType(lsp.MsgAck)).ConnID

		for _, b := range malformed(id, 51) {
			raw.sendRaw(b)
		}
		raw.send(lengthened(id, 51))
		raw.send(data(id, 52, "good"))
		c.Write([]byte("from the real client"))
		got := map[int][]string{}
		for range 3 {
			r := testutil.Recv(t, reads, wait)
			if r.err != nil {
				t.Fatalf("server Read: conn %d: %v", r.id, r.err)
			}
			got[r.id] = append(got[r.id], string(r.payload))
		}
		if g := fmt.Sprint(got[id]); g != "[hello good]" {
			t.Errorf("server delivered %s from the hand-made client, want [hello good]", g)
		}
		if g := fmt.Sprint(got[c.ConnID()]); g != "[from the real client]" {
			t.Errorf("server delivered %s from the real client", g)
		}
		raw.next(acks(52))
		s.Write(c.ConnID(), []byte("still serving"))
		expectPayload(t, creads, "still serving")
		s.Write(id, []byte("to the hand-made client"))
		if m := raw.next(isType(lsp.MsgData)); string(m.Payload) != "to the hand-made client" {
			t.Errorf("hand-made client got %v", &m)
		}
		select {
		case r := <-reads:
			t.Fatalf("server delivered an extra %v", r)
		default:
		}
	})
}

// TestMalformedToClient has a hand-made server accept a real client and then send it every
// kind of bad datagram: the client must deliver only the valid data, in order.
func TestMalformedToClient(t *testing.T) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		p := params(20, 50, 4, 4, 1)
		raw := listenRaw(t, nw)
		done := dialAsync(nw, raw.conn.LocalAddr().String(), 10, p)
		raw.next(isType(lsp.MsgConnect))
		const id = 5
		raw.sendRaw([]byte("garbage before the ack"))
		raw.send(lsp.NewAck(id, 9)) // acks a Connect never sent
		raw.send(data(id, 11, "data before the ack"))
		raw.send(lsp.NewAck(id, 10))
		c := awaitDial(t, done)
		if c.ConnID() != id {
			t.Fatalf("ConnID %d, want %d", c.ConnID(), id)
		}
		creads := clientReads(c)
		for _, b := range malformed(id, 11) {
			raw.sendRaw(b)
		}
		raw.send(lengthened(id, 11))
		raw.send(data(id, 12, "good"))
		expectPayload(t, creads, "hello")
		expectPayload(t, creads, "good")
		raw.next(acks(12))
		c.Write([]byte("still talking"))
		if m := raw.next(isType(lsp.MsgData)); string(m.Payload) != "still talking" || m.SeqNum != 11 {
			t.Errorf("hand-made server got %v", &m)
		} else {
			raw.send(lsp.NewAck(id, 11))
		}
		select {
		case r := <-creads:
			t.Fatalf("client delivered an extra %v", r)
		default:
		}
	})
}

// TestDamageInBothDirections runs a real exchange with every data message at risk of being
// shortened, lengthened or corrupted on the way: all must still arrive intact.
func TestDamageInBothDirections(t *testing.T) {
	n := network{name: "damage", drop: 5, delay: 5, damage: 15, clients: 2, perClient: 200}
	exchange(t, n, params(20, 50, 8, 8, 1))
}

// FuzzServerBatch sends arbitrary datagrams (the input cut at each 0xff byte) to a server over
// real UDP in one WriteBatch, so that they reach it together through the batched read path,
// then checks a client still gets a message through: bad input in a batch is dropped as it is
// alone, and never stalls or crashes the server.
func FuzzServerBatch(f *testing.F) {
	join := func(ms ...[]byte) []byte { return bytes.Join(ms, []byte{0xff}) }
	good := lsp.NewData(1, 1, 5, []byte("hello"), lsp.CalculateChecksum(1, 1, 5, []byte("hello")))
	bad := *good
	bad.Checksum++
	f.Add(join([]byte("garbage"), []byte{}, []byte(`{"Type":9}`)))
	f.Add(join(bad.Marshal(), lsp.NewData(1, math.MaxInt, 1, []byte("x"), 0).Marshal(), lsp.NewAck(1, 1).Marshal()))
	f.Add(join(lsp.NewData(77, 1, 5, []byte("hello"), lsp.CalculateChecksum(77, 1, 5, []byte("hello"))).Marshal(),
		[]byte(`{"Type":1,"ConnID":1,"SeqNum":1,"Size":99,"Payload":"aGVsbG8="}`), lsp.NewCAck(1, math.MinInt).Marshal()))
	nw := lspnet.NewNetwork()
	p := params(20, 100, 8, 8, 1)
	s, err := lsp.NewServerWith(0, p, lsp.WithListen(nw.ListenUDP))
	if err != nil {
		f.Fatal(err)
	}
	_, port, _ := lspnet.SplitHostPort(s.(interface{ Addr() string }).Addr())
	addr := "127.0.0.1:" + port
	c, err := lsp.NewClientWith(addr, 0, p, lsp.WithDial(nw.DialUDP))
	if err != nil {
		f.Fatal(err)
	}
	raddr, _ := lspnet.ResolveUDPAddr("udp", addr)
	raw, err := nw.DialUDP("udp", nil, raddr)
	if err != nil {
		f.Fatal(err)
	}
	reads := serverReads(s)
	f.Cleanup(func() {
		raw.Close()
		c.Close()
		s.Close()
	})
	i := 0
	f.Fuzz(func(t *testing.T, in []byte) {
		parts := bytes.Split(in, []byte{0xff})
		raw.WriteBatch(parts[:min(len(parts), lspnet.MaxBatch)], nil)
		i++
		msg := fmt.Sprint("alive ", i)
		if err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		for {
			r := testutil.Recv(t, reads, wait)
			if r.id != c.ConnID() {
				continue // a connection the fuzzer managed to open, or its loss
			}
			if r.err != nil || string(r.payload) != msg {
				t.Fatalf("server read %q, %v; want %q", r.payload, r.err, msg)
			}
			return
		}
	})
}
