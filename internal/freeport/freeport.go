// Package freeport hands out loopback ports for programs that must be told their port before
// they start (subprocesses of tests, the chaos harness's servers, servers that restart on the
// same port), where passing port 0 and reading the address back is not possible.
//
// The ports lie below Linux's ephemeral range (32768-60999 by default), from which the kernel
// picks the local port of every outgoing connection and of every bind to port 0. A port from
// that range is a poor choice to tell a program in advance: on a busy machine a client
// connection can take it before the program binds it, and a client connection's TIME_WAIT
// holds it for a minute, so thousands of short connections (benchmarks, other test runs) leave
// few of its ports bindable and hardly any consecutive runs of them.
//
// A process hands its ports out in turn from a starting point of its own, so no two calls
// return the same port until all 12,000 have been handed out, and processes running at once
// start far apart. That cursor is the package's one piece of state: like the kernel's table of
// bound ports, it is per process by nature.
package freeport

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
)

const (
	// Low and High bound the ports handed out: Low <= port < High.
	Low  = 20000
	High = 32000
	// attempts is how many candidate ranges a call tries before it gives up.
	attempts = 200
)

// next is the next port to try; 0 until the first call.
var next struct {
	sync.Mutex
	port int
}

// TCP returns the first of n consecutive TCP ports on 127.0.0.1 that were all free a moment
// ago (n = 1 for a single port).
func TCP(n int) (int, error) {
	return take(n, "TCP", func(start, n int) bool {
		for p := start; p < start+n; p++ {
			l, err := net.Listen("tcp", hostPort(p))
			if err != nil {
				return false
			}
			l.Close()
		}
		return true
	})
}

// UDP returns a UDP port on 127.0.0.1 that was free a moment ago.
func UDP() (int, error) {
	return take(1, "UDP", func(port, _ int) bool {
		c, err := net.ListenPacket("udp", hostPort(port))
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// take returns the first of n consecutive ports, after the ones handed out before, for which
// free reports true.
func take(n int, proto string, free func(start, n int) bool) (int, error) {
	if n < 1 || n > High-Low {
		return 0, fmt.Errorf("freeport: cannot hand out a range of %d ports", n)
	}
	next.Lock()
	defer next.Unlock()
	if next.port == 0 {
		next.port = Low + os.Getpid()*7919%(High-Low)
	}
	for range attempts {
		start := next.port
		if start+n > High {
			start = Low
		}
		next.port = start + n
		if free(start, n) {
			return start, nil
		}
	}
	return 0, fmt.Errorf("freeport: no range of %d free %s ports in %d-%d", n, proto, Low, High-1)
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
