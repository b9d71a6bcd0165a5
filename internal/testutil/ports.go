package testutil

import (
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
)

// The ports handed out lie below Linux's ephemeral range (32768-60999 by default), from which
// the kernel picks the local port of every outgoing connection and of every bind to port 0.
// A port from that range is a poor choice to tell a program in advance: on a busy machine a
// client connection can take it before the program binds it, and a client connection's
// TIME_WAIT holds it for a minute, so that thousands of short connections (benchmarks, other
// test runs) leave few of its ports bindable and hardly any consecutive runs of them.
//
// A test process hands its ports out in turn from a starting point of its own, so no two calls
// return the same port until 12,000 have been handed out (a test that asks for six gets six
// different ones, which random picks did not promise), and test processes running at once
// start far apart.
const (
	portLow  = 20000
	portHigh = 32000 // exclusive
	attempts = 200
)

// nextPort is the next port to try; 0 until the first call.
var nextPort struct {
	mu   sync.Mutex
	port int
}

// takePorts returns the first of n consecutive ports, after the ones taken before, for which
// free reports true.
func takePorts(n int, free func(start, n int) bool) (int, bool) {
	nextPort.mu.Lock()
	defer nextPort.mu.Unlock()
	if nextPort.port == 0 {
		nextPort.port = portLow + os.Getpid()*7919%(portHigh-portLow)
	}
	for range attempts {
		start := nextPort.port
		if start+n > portHigh {
			start = portLow
		}
		nextPort.port = start + n
		if free(start, n) {
			return start, true
		}
	}
	return 0, false
}

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
	port, ok := takePorts(1, func(port, _ int) bool {
		c, err := net.ListenPacket("udp", hostPort(port))
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if ok {
		return port
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
	if start, ok := takePorts(n, tcpPortsFree); ok {
		return start
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
