package testutil

import (
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
)

// The ports handed out lie below Linux's ephemeral range (32768-60999 by default), from which
// the kernel picks the local port of every outgoing connection and of every bind to port 0.
// A port from that range is a poor choice to tell a program in advance: on a busy machine a
// client connection can take it before the program binds it, and a client connection's
// TIME_WAIT holds it for a minute, so that thousands of short connections (benchmarks, other
// test runs) leave few of its ports bindable and hardly any consecutive runs of them.
const (
	portLow  = 20000
	portHigh = 32000 // exclusive
	attempts = 200
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Prefer passing port 0 to
// the code under test; FreePort is for programs that must be told a port up front, such as
// subprocesses and servers that take a range of consecutive ports, or that restart on the
// same port.
func FreePort(tb testing.TB) int {
	tb.Helper()
	return FreePortRange(tb, 1)
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort(tb testing.TB) int {
	tb.Helper()
	for range attempts {
		port := portLow + rand.IntN(portHigh-portLow)
		if c, err := net.ListenPacket("udp", hostPort(port)); err == nil {
			c.Close()
			return port
		}
	}
	tb.Fatalf("testutil: no free UDP port in %d-%d", portLow, portHigh-1)
	return 0
}

// FreePortRange returns the first of n consecutive TCP ports on 127.0.0.1 that were all free a
// moment ago, for servers that listen on startPort..startPort+n-1.
func FreePortRange(tb testing.TB, n int) int {
	tb.Helper()
	if n < 1 || n > portHigh-portLow {
		tb.Fatalf("testutil: cannot find a range of %d ports", n)
	}
	for range attempts {
		start := portLow + rand.IntN(portHigh-portLow-n+1)
		if tcpPortsFree(start, n) {
			return start
		}
	}
	tb.Fatalf("testutil: no range of %d free TCP ports in %d-%d", n, portLow, portHigh-1)
	return 0
}

// tcpPortsFree reports whether ports start..start+n-1 can all be listened on.
func tcpPortsFree(start, n int) bool {
	for p := start; p < start+n; p++ {
		l, err := net.Listen("tcp", hostPort(p))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
