//go:build !unix

package kvserver

import (
	"net"
	"syscall"
)

// rawConn returns nil: without non-blocking writes every reply goes through the writer.
func rawConn(net.Conn) syscall.RawConn { return nil }

func writeNow(syscall.RawConn, []byte) (int, error) { return 0, nil }
