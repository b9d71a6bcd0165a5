package freeport

import (
	"net"
	"testing"
)

func TestTCPRangeIsFreeAndBelowTheEphemeralRange(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		p, err := TCP(4)
		if err != nil {
			t.Fatal(err)
		}
		if p < Low || p+4 > High {
			t.Fatalf("TCP(4) = %d, want a range inside %d-%d", p, Low, High-1)
		}
		for port := p; port < p+4; port++ {
			if seen[port] {
				t.Fatalf("port %d handed out twice", port)
			}
			seen[port] = true
			l, err := net.Listen("tcp", hostPort(port))
			if err != nil {
				t.Fatalf("port %d of the range %d-%d: %v", port, p, p+3, err)
			}
			l.Close()
		}
	}
}

func TestUDP(t *testing.T) {
	p, err := UDP()
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenPacket("udp", hostPort(p))
	if err != nil || p < Low || p >= High {
		t.Fatalf("UDP() = %d (%v), want a bindable port in %d-%d", p, err, Low, High-1)
	}
	c.Close()
}

func TestBadCount(t *testing.T) {
	for _, n := range []int{0, -1, High - Low + 1} {
		if _, err := TCP(n); err == nil {
			t.Errorf("TCP(%d) succeeded", n)
		}
	}
}
