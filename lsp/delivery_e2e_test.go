package lsp_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"ds440/internal/testutil"
	"ds440/lsp"
	"ds440/lsp/lspnet"
)

// network is one set of faults for a delivery test.
type network struct {
	name      string
	drop      int // percent of datagrams lost in each direction
	delay     int // percent of datagrams held back and so reordered
	damage    int // percent of data messages shortened, lengthened and corrupted (each)
	clients   int
	perClient int // messages per client in each direction
}

func (n network) apply(nw *lspnet.Network) {
	nw.ResetFaults()
	// Loss is applied once per datagram: client-to-server on the client's writes,
	// server-to-client on the client's reads, so both controls get exercised.
	nw.SetClientWriteDropPercent(n.drop)
	nw.SetClientReadDropPercent(n.drop)
	nw.SetDelayMessagePercent(n.delay)
	nw.SetMaxDelayMillis(40)
	nw.SetMsgShorteningPercent(n.damage)
	nw.SetMsgLengtheningPercent(n.damage)
	nw.SetMsgCorruptingPercent(n.damage)
}

// streams makes the payloads one test sends: for each client, the messages up and the
// messages down, of random sizes from 0 to 1,000 bytes.
func streams(seed uint64, clients, n int) (up, down [][][]byte) {
	rng := rand.New(rand.NewPCG(seed, 440))
	gen := func() [][]byte {
		s := make([][]byte, n)
		for i := range s {
			s[i] = make([]byte, rng.IntN(1001))
			for j := range s[i] {
				s[i][j] = byte(rng.Uint32())
			}
		}
		return s
	}
	for range clients {
		up = append(up, gen())
		down = append(down, gen())
	}
	return up, down
}

// TestExactlyOnceInOrder runs many clients at once, each exchanging random messages with the
// server in both directions, at increasing loss with delays (and so reordering) and damage
// on. Every message must arrive exactly once and in order, and a Monitor checks from the wire
// that no sender ever exceeds its window or unacked cap. Each case moves 10,000 messages in
// each direction (4 clients x 2,500; 2,000 under the race detector).
func TestExactlyOnceInOrder(t *testing.T) {
	perClient := 2500
	if race {
		perClient = 500
	}
	nets := []network{
		{name: "perfect", clients: 4},
		{name: "drop0", drop: 0, delay: 10, clients: 4},
		{name: "drop20", drop: 20, delay: 10, damage: 2, clients: 4},
		{name: "drop50", drop: 50, delay: 10, clients: 4},
	}
	for _, n := range nets {
		t.Run(n.name, func(t *testing.T) {
			n.perClient = perClient
			exchange(t, n, params(20, 50, 32, 16, 2))
		})
	}
}

// TestExactlyOnceRealUDP is one exchange over the operating system's UDP sockets, in real
// time, with the test's own faults: the path through recvmmsg and sendmmsg on Linux.
func TestExactlyOnceRealUDP(t *testing.T) {
	t.Parallel()
	n := network{name: "udp-drop20", drop: 20, delay: 10, damage: 2, clients: 2, perClient: 300}
	exchangeOn(t, lspnet.NewNetwork(), n, params(20, 100, 16, 16, 2))
}

// TestManyClientsSoak is the same exchange with many more clients and messages.
func TestManyClientsSoak(t *testing.T) {
	testutil.RequireSoak(t)
	exchange(t, network{name: "soak", drop: 30, delay: 20, damage: 2, clients: 16, perClient: 2000}, params(20, 200, 64, 32, 4))
}

// exchange runs one delivery test on network n with params p.
func exchange(t *testing.T, n network, p *lsp.Params) {
	bubble(t, func(t *testing.T, nw *lspnet.Network) {
		r := exchangeOn(t, nw, n, p)
		if n.drop == 0 && n.delay == 0 && n.damage == 0 && r.Resent > 0 {
			// Under synctest no epoch passes while messages are moving: a resend on a
			// perfect network can only be a spurious fast resend.
			t.Errorf("%d retransmissions on a perfect network", r.Resent)
		}
	})
}

// exchangeOn runs one delivery test on network n, whose faults nw carries, with params p, and
// returns what the wire monitor saw.
func exchangeOn(t *testing.T, nw *lspnet.Network, n network, p *lsp.Params) lspnet.Report {
	start := time.Now()
	mon := nw.Watch(lspnet.Limits{WindowSize: p.WindowSize, MaxUnackedMessages: p.MaxUnackedMessages})
	monitoring := true
	stopMonitor := func() lspnet.Report {
		monitoring = false
		return mon.Stop()
	}
	t.Cleanup(func() {
		if monitoring {
			mon.Stop()
		}
	})
	s, addr := startServer(t, nw, p)
	up, down := streams(uint64(n.drop)+1, n.clients, n.perClient)

	clients := make([]lsp.Client, n.clients)
	index := make(map[int]int) // connID -> client
	for i := range clients {
		clients[i] = dial(t, nw, addr, i*1_000_000, p) // distinct ISNs, far apart
		index[clients[i].ConnID()] = i
	}
	n.apply(nw) // after the handshakes, which have their own tests

	errs := make(chan error, 2*n.clients+1)
	// The server's reader checks every client's stream as it arrives.
	go func() {
		next := make([]int, n.clients)
		for left := n.clients * n.perClient; left > 0; left-- {
			id, payload, err := s.Read()
			if err != nil {
				errs <- fmt.Errorf("server Read: conn %d: %w", id, err)
				return
			}
			i, ok := index[id]
			switch {
			case !ok:
				errs <- fmt.Errorf("server read from unknown conn %d", id)
				return
			case next[i] >= n.perClient:
				errs <- fmt.Errorf("client %d: extra message after %d", i, n.perClient)
				return
			case !bytes.Equal(payload, up[i][next[i]]):
				errs <- fmt.Errorf("client %d: message %d: got %d bytes, want %d bytes %s", i, next[i], len(payload), len(up[i][next[i]]), where(up[i], payload))
				return
			}
			next[i]++
		}
		errs <- nil
	}()
	for i, c := range clients {
		go func() { // each client's reader
			for k, want := range down[i] {
				got, err := c.Read()
				if err != nil {
					errs <- fmt.Errorf("client %d Read %d: %w", i, k, err)
					return
				}
				if !bytes.Equal(got, want) {
					errs <- fmt.Errorf("client %d: message %d: got %d bytes, want %d bytes %s", i, k, len(got), len(want), where(down[i], got))
					return
				}
			}
			errs <- nil
		}()
		go func() { // each client's writer, interleaved with the server writing to it
			for k := range n.perClient {
				if err := c.Write(up[i][k]); err != nil {
					errs <- fmt.Errorf("client %d Write %d: %w", i, k, err)
					return
				}
				if err := s.Write(c.ConnID(), down[i][k]); err != nil {
					errs <- fmt.Errorf("server Write to %d, %d: %w", c.ConnID(), k, err)
					return
				}
			}
			errs <- nil
		}()
	}
	// Generous: at least 90 s, and 20 ms a message for the big soak runs.
	limit := max(90*time.Second, time.Duration(2*n.clients*n.perClient)*20*time.Millisecond)
	deadline := time.After(limit)
	for range 2*n.clients + 1 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatalf("exchange did not finish within %v", limit)
		}
	}
	elapsed := time.Since(start)
	for i, c := range clients {
		if err := c.Close(); err != nil {
			t.Errorf("client %d Close: %v", i, err)
		}
	}
	// Nothing more may be delivered: the server sees only the closed connections.
	nw.ResetDropPercent()
	for range n.clients {
		_, payload, err := s.Read()
		if err == nil {
			t.Fatalf("server read an extra %d-byte message", len(payload))
		}
	}
	r := stopMonitor()
	total := 2 * n.clients * n.perClient
	t.Logf("%s: %d messages in %v (%.0f msg/s); monitor: %d flows, %d sent, %d resent, max %d in flight",
		n.name, total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), r.Flows, r.Sent, r.Resent, r.MaxInFlight)
	if len(r.Violations) > 0 {
		t.Fatalf("senders broke their limits on the wire:\n%v", r.Violations)
	}
	if r.Sent != total {
		t.Errorf("monitor saw %d first sends, want %d", r.Sent, total)
	}
	if n.drop > 0 && r.Resent == 0 {
		t.Errorf("no retransmissions at %d%% loss", n.drop)
	}
	return r
}

// where describes a wrong payload: a duplicate or misordered message of the stream, or junk.
func where(stream [][]byte, got []byte) string {
	for i, m := range stream {
		if bytes.Equal(m, got) {
			return fmt.Sprintf("(it is message %d of the stream)", i)
		}
	}
	return "(not a message of the stream)"
}
