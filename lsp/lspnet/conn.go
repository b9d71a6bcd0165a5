package lspnet

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// Side says which end of LSP a socket serves, and so which drop controls act on it: sockets
// from ListenUDP are the server's, sockets from DialUDP the client's.
type Side uint8

// The two sides.
const (
	Client Side = iota + 1
	Server
)

// String returns "client" or "server".
func (s Side) String() string {
	switch s {
	case Client:
		return "client"
	case Server:
		return "server"
	}
	return "side?"
}

// ErrNoPeer is returned by Write on a socket that was not dialed, and by WriteToUDP with a nil
// address.
var ErrNoPeer = errors.New("lspnet: no destination address")

// packetConn is what a UDPConn needs from the socket under it: *net.UDPConn, or a memConn.
type packetConn interface {
	Read(b []byte) (int, error)
	ReadFromUDP(b []byte) (int, *net.UDPAddr, error)
	Write(b []byte) (int, error)
	WriteToUDP(b []byte, addr *net.UDPAddr) (int, error)
	Close() error
	LocalAddr() net.Addr
	SetReadDeadline(t time.Time) error
	SetReadBuffer(bytes int) error
	SetWriteBuffer(bytes int) error
}

// UDPConn is a UDP socket whose traffic passes through the fault controls and the tap of the
// Network that opened it. It wraps *net.UDPConn (or an in-memory socket) and is safe for
// concurrent use, like the socket it wraps.
type UDPConn struct {
	conn   packetConn
	faults *Faults
	side   Side
	raddr  *net.UDPAddr // the peer of a dialed socket; nil for a listening one
	local  string       // cached for the tap
	remote string
	closed atomic.Bool

	raw  syscall.RawConn // the OS socket, for batched I/O; nil for an in-memory one
	v4   bool            // an IPv4 (not dual-stack) socket, which takes only IPv4 addresses
	peer *UDPAddr        // raddr as handed to callers, made once

	rstate, wstate chan *batchState // the batched calls' memory, one of each kept for reuse
	gsoLimit       atomic.Int64     // GSO only for datagrams shorter than this; 0 = any
	gro            atomic.Bool      // EnableGRO turned UDP_GRO on
}

func newConn(c packetConn, f *Faults, side Side, raddr *net.UDPAddr) *UDPConn {
	u := &UDPConn{conn: c, faults: f, side: side, raddr: raddr, local: c.LocalAddr().String(),
		rstate: make(chan *batchState, 1), wstate: make(chan *batchState, 1)}
	if raddr != nil {
		u.remote = raddr.String()
		u.peer = &UDPAddr{addr: raddr}
	}
	if sc, ok := c.(syscall.Conn); ok {
		u.raw, _ = sc.SyscallConn()
	}
	if la, ok := c.LocalAddr().(*net.UDPAddr); ok {
		u.v4 = la.IP.To4() != nil
	}
	return u
}

// Side reports whether the socket is a client's or a server's.
func (c *UDPConn) Side() Side { return c.side }

// Faults returns the fault set the socket obeys: its Network's.
func (c *UDPConn) Faults() *Faults { return c.faults }

// LocalAddr returns the socket's own address.
func (c *UDPConn) LocalAddr() *UDPAddr {
	a, _ := c.conn.LocalAddr().(*net.UDPAddr)
	return &UDPAddr{addr: a}
}

// RemoteAddr returns the peer of a dialed socket, or nil for a listening one.
func (c *UDPConn) RemoteAddr() *UDPAddr {
	if c.raddr == nil {
		return nil
	}
	return &UDPAddr{addr: c.raddr}
}

// Read reads the next datagram from a dialed socket into b. Datagrams the read-drop control
// discards are skipped.
func (c *UDPConn) Read(b []byte) (n int, err error) {
	for {
		n, err = c.conn.Read(b)
		if err != nil || !c.dropRead(b[:n], c.remote) {
			return n, err
		}
	}
}

// ReadFromUDP reads the next datagram into b and returns its sender. Datagrams the read-drop
// control discards are skipped.
func (c *UDPConn) ReadFromUDP(b []byte) (n int, addr *UDPAddr, err error) {
	for {
		n, a, err := c.conn.ReadFromUDP(b)
		if err != nil {
			return n, nil, err
		}
		remote := ""
		if c.faults.observing() {
			remote = a.String()
		}
		if !c.dropRead(b[:n], remote) {
			return n, &UDPAddr{addr: a}, nil
		}
	}
}

// dropRead decides the fate of a datagram just read and shows it to the tap.
func (c *UDPConn) dropRead(b []byte, remote string) bool {
	f := c.faults
	drop := false
	if f.active.Load() {
		p := &f.clientReadDrop
		if c.side == Server {
			p = &f.serverReadDrop
		}
		drop = chance(p)
	}
	if f.observing() {
		f.observe(Datagram{Side: c.side, Op: Read, Local: c.local, Remote: remote, Data: b, Dropped: drop})
	}
	if drop {
		f.debug("dropped read", "side", c.side, "local", c.local, "bytes", len(b), "from", remote)
	}
	return drop
}

// Write sends b to the peer of a dialed socket, subject to the fault controls. A datagram the
// controls drop still counts as written: the network, not the sender, lost it.
func (c *UDPConn) Write(b []byte) (int, error) {
	if c.raddr == nil {
		return 0, ErrNoPeer
	}
	return c.write(b, c.raddr, c.remote)
}

// WriteToUDP sends b to addr, subject to the fault controls.
func (c *UDPConn) WriteToUDP(b []byte, addr *UDPAddr) (int, error) {
	if addr == nil || addr.addr == nil {
		return 0, ErrNoPeer
	}
	remote := ""
	if c.faults.observing() {
		remote = addr.addr.String()
	}
	return c.write(b, addr.addr, remote)
}

func (c *UDPConn) write(b []byte, to *net.UDPAddr, remote string) (int, error) {
	out, now := c.fate(b, to, remote)
	if !now {
		return len(b), nil
	}
	if _, err := c.send(out, to); err != nil {
		return 0, err
	}
	return len(b), nil
}

// fate applies the fault controls and the tap to a datagram about to be written to to, and
// returns what to send now (b, or a mangled copy) and whether to: a dropped datagram is not
// sent, a delayed one is sent later on its own.
func (c *UDPConn) fate(b []byte, to *net.UDPAddr, remote string) ([]byte, bool) {
	f := c.faults
	if !f.active.Load() {
		if f.observing() {
			f.observe(Datagram{Side: c.side, Op: Write, Local: c.local, Remote: remote, Data: b})
		}
		return b, true
	}
	p := &f.clientWriteDrop
	if c.side == Server {
		p = &f.serverWriteDrop
	}
	drop := chance(p)
	out := b
	var delay time.Duration
	if !drop {
		out = f.mangle(b)
		delay = f.delay()
	}
	if f.observing() {
		f.observe(Datagram{Side: c.side, Op: Write, Local: c.local, Remote: remote, Data: out, Dropped: drop, Delay: delay})
	}
	switch {
	case drop:
		f.debug("dropped write", "side", c.side, "local", c.local, "bytes", len(b), "to", to)
		return nil, false
	case delay > 0:
		out = append([]byte(nil), out...) // the caller may reuse b at once
		time.AfterFunc(delay, func() {
			if !c.closed.Load() {
				c.send(out, to)
			}
		})
		return nil, false
	}
	return out, true
}

func (c *UDPConn) send(b []byte, to *net.UDPAddr) (int, error) {
	if c.raddr != nil {
		return c.conn.Write(b)
	}
	return c.conn.WriteToUDP(b, to)
}

// Close closes the socket, unblocking any Read. Datagrams still held back by the delay
// control are discarded. Closing twice returns the socket's error for a closed socket.
func (c *UDPConn) Close() error {
	c.closed.Store(true)
	return c.conn.Close()
}

// SetReadBuffer sets the size of the socket's receive buffer.
func (c *UDPConn) SetReadBuffer(bytes int) error { return c.conn.SetReadBuffer(bytes) }

// SetWriteBuffer sets the size of the socket's send buffer.
func (c *UDPConn) SetWriteBuffer(bytes int) error { return c.conn.SetWriteBuffer(bytes) }

// SetReadDeadline sets the deadline for Read and ReadFromUDP, like net.UDPConn's.
func (c *UDPConn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }
