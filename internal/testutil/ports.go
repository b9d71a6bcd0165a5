package testutil

import (
	"testing"

	"ds440/internal/freeport"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago (see internal/freeport
// for where it comes from). Prefer passing port 0 to the code under test; FreePort is for
// programs that must be told a port up front, such as subprocesses and servers that take a
// range of consecutive ports, or that restart on the same port.
func FreePort(tb testing.TB) int {
	tb.Helper()
	return FreePortRange(tb, 1)
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort(tb testing.TB) int {
	tb.Helper()
	port, err := freeport.UDP()
	if err != nil {
		tb.Fatalf("testutil: %v", err)
	}
	return port
}

// FreePortRange returns the first of n consecutive TCP ports on 127.0.0.1 that were all free a
// moment ago, for servers that listen on startPort..startPort+n-1.
func FreePortRange(tb testing.TB, n int) int {
	tb.Helper()
	port, err := freeport.TCP(n)
	if err != nil {
		tb.Fatalf("testutil: %v", err)
	}
	return port
}
