package rawio

import (
	"fmt"
	"net"
	"syscall"
	"testing"
)

// tcpPair returns the non-blocking descriptors of both ends of a loopback TCP connection.
func tcpPair(b *testing.B) (a, z int) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c1.Close()
	c2, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer c2.Close()
	fd := func(c net.Conn) int {
		rc, _ := c.(*net.TCPConn).SyscallConn()
		d := -1
		rc.Control(func(s uintptr) { d, _ = syscall.Dup(int(s)) })
		syscall.SetNonblock(d, true)
		b.Cleanup(func() { syscall.Close(d) })
		return d
	}
	return fd(c1), fd(c2)
}

// BenchmarkSendRound sends a short reply to each of k loopback TCP sockets, with a write each or
// with one io_uring_enter, and reads them all at the other ends: where the ring starts to pay.
func BenchmarkSendRound(b *testing.B) {
	reply := []byte("$3\r\nxxx\r\n")
	for _, k := range []int{1, 2, 3, 4, 8} {
		for _, how := range []string{"write", "ring"} {
			b.Run(fmt.Sprintf("clients=%d/%s", k, how), func(b *testing.B) {
				src, dst := make([]int, k), make([]int, k)
				for i := range k {
					src[i], dst[i] = tcpPair(b)
				}
				r := newTestRing(b, 64, 0)
				buf := make([]byte, 64)
				for b.Loop() {
					if how == "write" {
						for _, fd := range src {
							Write(fd, reply)
						}
					} else {
						for i, fd := range src {
							r.Send(fd, reply, uint64(i), syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL)
						}
						if err := r.SubmitAndWait(k); err != nil {
							b.Fatal(err)
						}
						for range k {
							if c, _ := r.Reap(); c.Res != int32(len(reply)) {
								b.Fatalf("send: %+v", c)
							}
						}
					}
					for _, fd := range dst {
						if n, err := Read(fd, buf); n != len(reply) {
							b.Fatalf("read %d, %v", n, err)
						}
					}
				}
			})
		}
	}
}
