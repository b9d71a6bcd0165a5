package testutil

import (
	"net"
	"strconv"
	"testing"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Prefer passing port 0 to
// the code under test; FreePort is for programs that must be told a port up front, such as
// subprocesses and servers that take a range of consecutive ports.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testutil: no free TCP port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort(tb testing.TB) int {
	tb.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testutil: no free UDP port: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// FreePortRange returns the first of n consecutive TCP ports on 127.0.0.1 that were all free a
// moment ago, for servers that listen on startPort..startPort+n-1.
func FreePortRange(tb testing.TB, n int) int {
	tb.Helper()
	for attempt := 0; attempt < 100; attempt++ {
		start := FreePort(tb)
		if start+n > 65535 {
			continue
		}
		ok := true
		for p := start; p < start+n && ok; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return start
		}
	}
	tb.Fatalf("testutil: no range of %d free TCP ports", n)
	return 0
}
