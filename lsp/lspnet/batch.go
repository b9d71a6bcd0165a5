package lspnet

import (
	"errors"
	"net"
)

// MaxBatch is the most datagrams ReadBatch and WriteBatch move in one call.
const MaxBatch = 64

// ReadBatch reads at least one and up to len(bufs) datagrams, blocking until one arrives:
// on Linux with one recvmmsg system call, elsewhere (and on in-memory sockets) one datagram
// per call. It returns how many it read: datagram i is bufs[i][:ns[i]], from addrs[i] (the
// peer, for a dialed socket). The read-drop controls and the tap act on each datagram as in
// ReadFromUDP; the datagrams they drop are left out, and to keep the others first ReadBatch
// may reorder bufs. ns and addrs must be as long as bufs. It is not part of the course's
// surface: package lsp finds it by a type assertion and falls back to ReadFromUDP.
func (c *UDPConn) ReadBatch(bufs [][]byte, ns []int, addrs []*UDPAddr) (int, error) {
	return c.readKept(bufs, ns, addrs, true)
}

// ErrNotPollable is returned by ReadBatchNow on a socket that is not Pollable.
var ErrNotPollable = errors.New("lspnet: socket cannot be polled")

// ReadBatchNow is ReadBatch without waiting: it returns 0 and no error if no datagram is
// queued. With SetReadDeadline, which ends a ReadBatch already waiting, it lets one goroutine
// own a socket, reading it while there is other work and waiting on it otherwise, and still
// be woken for that other work. Only a Pollable socket (on Linux, an operating-system one)
// has it; elsewhere it returns ErrNotPollable.
func (c *UDPConn) ReadBatchNow(bufs [][]byte, ns []int, addrs []*UDPAddr) (int, error) {
	return c.readKept(bufs, ns, addrs, false)
}

// readKept reads a batch, waiting for one if wait, and keeps what the read-drop controls let
// through; it reads again when they drop every datagram of a batch.
func (c *UDPConn) readKept(bufs [][]byte, ns []int, addrs []*UDPAddr, wait bool) (int, error) {
	bufs = bufs[:min(len(bufs), len(ns), len(addrs), MaxBatch)]
	for {
		n, err := c.readBatch(bufs, ns, addrs, wait)
		if err != nil || n == 0 {
			return 0, err
		}
		kept := 0
		for i := range n {
			remote := c.remote
			if c.faults.observing() && c.raddr == nil {
				remote = addrs[i].String()
			}
			if c.dropRead(bufs[i][:ns[i]], remote) {
				continue
			}
			bufs[kept], bufs[i] = bufs[i], bufs[kept]
			ns[kept], addrs[kept] = ns[i], addrs[i]
			kept++
		}
		if kept > 0 {
			return kept, nil
		}
	}
}

// readOne is the portable ReadBatch: one datagram.
func (c *UDPConn) readOne(bufs [][]byte, ns []int, addrs []*UDPAddr) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	n, a, err := c.conn.ReadFromUDP(bufs[0])
	if err != nil {
		return 0, err
	}
	if c.raddr != nil {
		a = c.raddr
	}
	ns[0], addrs[0] = n, &UDPAddr{addr: a}
	return 1, nil
}

// WriteBatch sends bufs[i] to addrs[i] (or, for a dialed socket, to its peer, and then addrs
// may be nil): on Linux in as few sendmmsg system calls as it can, elsewhere one per datagram.
// The fault controls and the tap act on each datagram as in WriteToUDP. A datagram the
// system refuses is lost, as a failed WriteToUDP's would be; WriteBatch returns how many were
// handed to the network (or to the controls) and the last error.
func (c *UDPConn) WriteBatch(bufs [][]byte, addrs []*UDPAddr) (int, error) {
	f := c.faults
	if !f.active.Load() && !f.observing() {
		return c.writeBatch(bufs, addrs)
	}
	// The controls decide each datagram's fate one by one; those to send now still go in
	// one batch.
	var err error
	sent := 0
	keep, keepTo := make([][]byte, 0, len(bufs)), []*UDPAddr(nil)
	for i, b := range bufs {
		var to *net.UDPAddr
		remote := c.remote
		if c.raddr != nil {
			to = c.raddr
		} else {
			if addrs == nil || addrs[i] == nil || addrs[i].addr == nil {
				err = ErrNoPeer
				continue
			}
			to = addrs[i].addr
			if f.observing() {
				remote = to.String()
			}
		}
		out, now := c.fate(b, to, remote)
		if !now {
			sent++ // lost or held back by the controls: the network's doing, not the sender's
			continue
		}
		keep = append(keep, out)
		if c.raddr == nil {
			keepTo = append(keepTo, addrs[i])
		}
	}
	n, werr := c.writeBatch(keep, keepTo)
	if werr != nil {
		err = werr
	}
	return sent + n, err
}

// writeEach is the portable WriteBatch: one system call per datagram.
func (c *UDPConn) writeEach(bufs [][]byte, addrs []*UDPAddr) (int, error) {
	var err error
	sent := 0
	for i, b := range bufs {
		var to *net.UDPAddr
		if c.raddr == nil {
			if addrs == nil || addrs[i] == nil || addrs[i].addr == nil {
				err = ErrNoPeer
				continue
			}
			to = addrs[i].addr
		}
		if _, werr := c.send(b, to); werr != nil {
			err = werr
			continue
		}
		sent++
	}
	return sent, err
}
