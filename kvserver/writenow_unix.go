//go:build unix

package kvserver

import (
	"net"
	"syscall"
)

// rawConn returns the connection's file descriptor access, or nil if it has none.
func rawConn(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// writeNow writes as much of b as the socket takes without waiting (its descriptor is
// non-blocking) and returns how much that was. This is what lets the loop answer a client
// itself, as Redis does, instead of waking the client's writer for every reply.
func writeNow(rc syscall.RawConn, b []byte) (int, error) {
	n := 0
	var err error
	ctlErr := rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, e := syscall.Write(int(fd), b[n:])
			if m > 0 {
				n += m
			}
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
			case e != nil:
				err = e
			case m > 0:
				continue
			}
			break
		}
		return true // never wait: what is left goes to the writer
	})
	if err == nil {
		err = ctlErr
	}
	return n, err
}
