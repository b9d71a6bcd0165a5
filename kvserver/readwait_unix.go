//go:build unix

package kvserver

import (
	"net"
	"syscall"
	"time"
)

// finCheck bounds how long a read that may find the end of the stream is put off; see readWait.
const finCheck = 50 * time.Millisecond

// readWait reads from conn into space() and hands each read to took until took reports false,
// the peer has finished or the connection fails.
//
// Unlike a loop over net.Conn.Read, it does not try a read that will almost surely find the
// socket empty: after a read that left room in the buffer, the socket held no more data, so
// it waits for the poller to report new data first. An unpipelined client costs one read per
// request instead of two (the second failing with EAGAIN). All reads happen inside one
// RawConn.Read call, so readiness reported while took runs is not lost.
//
// The one thing such a read can miss is an end of stream (FIN) that arrived together with the
// data: the poller reported both at once, and no new event follows. So a wait after a short
// read is armed with a read deadline finCheck ahead; when it passes, a read is tried, and only
// a read that finds the socket empty (EAGAIN) lets it wait without one. A busy connection thus
// pays one extra read per finCheck instead of one per request, and a peer that closes right
// after its last request is noticed within finCheck.
//
// The callback holds the connection's read lock while took runs, and net.Conn.Close waits for
// that lock: code that took may wait on (the loop) must hang a connection up (see hangUp)
// rather than close it.
func readWait(conn net.Conn, rc syscall.RawConn, space func() []byte, took func(n, free int) bool) {
	armed := false // a read deadline is set
	for {
		done := false
		err := rc.Read(func(fd uintptr) bool {
			for {
				p := space()
				n, err := syscall.Read(int(fd), p)
				switch {
				case err == syscall.EINTR:
					continue
				case err == syscall.EAGAIN:
					if armed { // the socket is drained, end of stream included
						armed = conn.SetReadDeadline(time.Time{}) != nil
					}
					return false
				case err != nil || n <= 0:
					done = true // failed or finished
					return true
				case !took(n, len(p)):
					done = true
					return true
				case n < len(p):
					if !armed {
						armed = conn.SetReadDeadline(time.Now().Add(finCheck)) == nil
					}
					return false
				}
			}
		})
		// The deadline passed. RawConn.Read fails at once while it is in the past, so clear
		// it; the next call starts with a read.
		if done || err == nil || !isTimeout(err) || conn.SetReadDeadline(time.Time{}) != nil {
			return
		}
		armed = false
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// hangUp shuts c's connection down in both directions without closing it, which wakes its
// reader (the read sees the end) and fails its writer's writes; the writer closes it when it
// exits. Unlike Close it never waits, even while the reader is busy inside readWait.
func hangUp(c *client) {
	if c.raw == nil {
		c.conn.Close()
		return
	}
	c.raw.Control(func(fd uintptr) {
		syscall.Shutdown(int(fd), syscall.SHUT_RDWR)
	})
}
