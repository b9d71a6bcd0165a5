package lspnet

import (
	"errors"
	"net"
	"sync/atomic"
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

// UDPConn is a UDP socket whose traffic passes through the process-wide fault controls and
// the tap. It wraps *net.UDPConn and is safe for concurrent use, like the socket it wraps.
type UDPConn struct {
	conn   *net.UDPConn
	side   Side
	raddr  *net.UDPAddr // the peer of a dialed socket; nil for a listening one
	local  string       // cached for the tap
	remote string
	closed atomic.Bool
}

// ListenUDP opens a socket at laddr for a server; its traffic is subject to the server-side
// drop controls. A nil laddr or port 0 picks a free port.
func ListenUDP(network string, laddr *UDPAddr) (*UDPConn, error) {
	c, err := net.ListenUDP(network, unwrap(laddr))
	if err != nil {
		return nil, err
	}
	return newConn(c, Server, nil), nil
}

// DialUDP opens a socket connected to raddr for a client; its traffic is subject to the
// client-side drop controls. laddr may be nil.
func DialUDP(network string, laddr, raddr *UDPAddr) (*UDPConn, error) {
	c, err := net.DialUDP(network, unwrap(laddr), unwrap(raddr))
	if err != nil {
		return nil, err
	}
	ra, _ := c.RemoteAddr().(*net.UDPAddr)
	return newConn(c, Client, ra), nil
}

func newConn(c *net.UDPConn, side Side, raddr *net.UDPAddr) *UDPConn {
	u := &UDPConn{conn: c, side: side, raddr: raddr, local: c.LocalAddr().String()}
	if raddr != nil {
		u.remote = raddr.String()
	}
	return u
}

// Side reports whether the socket is a client's or a server's.
func (c *UDPConn) Side() Side { return c.side }

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
		if tapping() {
			remote = a.String()
		}
		if !c.dropRead(b[:n], remote) {
			return n, &UDPAddr{addr: a}, nil
		}
	}
}

// dropRead decides the fate of a datagram just read and shows it to the tap.
func (c *UDPConn) dropRead(b []byte, remote string) bool {
	drop := false
	if active.Load() {
		p := &clientReadDrop
		if c.side == Server {
			p = &serverReadDrop
		}
		drop = chance(p)
	}
	if tapping() {
		tap(Datagram{Side: c.side, Op: Read, Local: c.local, Remote: remote, Data: b, Dropped: drop})
	}
	if drop {
		debugf("%s %s: dropped read of %d bytes from %s", c.side, c.local, len(b), remote)
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
	if tapping() {
		remote = addr.addr.String()
	}
	return c.write(b, addr.addr, remote)
}

func (c *UDPConn) write(b []byte, to *net.UDPAddr, remote string) (int, error) {
	if !active.Load() {
		if tapping() {
			tap(Datagram{Side: c.side, Op: Write, Local: c.local, Remote: remote, Data: b})
		}
		return c.send(b, to)
	}
	p := &clientWriteDrop
	if c.side == Server {
		p = &serverWriteDrop
	}
	drop := chance(p)
	out := b
	if !drop {
		out = mangle(b)
	}
	var delay time.Duration
	if !drop && chance(&delayPercent) {
		if max := maxDelayMillis.Load(); max > 0 {
			delay = time.Duration(randN(int(max)*1000)+1) * time.Microsecond
		}
	}
	if tapping() {
		tap(Datagram{Side: c.side, Op: Write, Local: c.local, Remote: remote, Data: out, Dropped: drop, Delay: delay})
	}
	switch {
	case drop:
		debugf("%s %s: dropped write of %d bytes to %s", c.side, c.local, len(b), to)
		return len(b), nil
	case delay > 0:
		out = append([]byte(nil), out...) // the caller may reuse b at once
		time.AfterFunc(delay, func() {
			if !c.closed.Load() {
				c.send(out, to)
			}
		})
		return len(b), nil
	}
	if _, err := c.send(out, to); err != nil {
		return 0, err
	}
	return len(b), nil
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
