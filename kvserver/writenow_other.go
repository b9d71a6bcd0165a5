//go:build !unix

package kvserver

import (
	"net"
	"syscall"
)

// rawConn returns nil: without non-blocking writes every reply goes through the writer.
func rawConn(net.Conn) syscall.RawConn { return nil }

func writeNow(syscall.RawConn, []byte) (int, error) { return 0, nil }

func readWait(net.Conn, syscall.RawConn, func() []byte, func(int, int) bool) {}

// hangUp closes c's connection, which wakes its reader and writer.
func hangUp(c *client) { c.conn.Close() }
