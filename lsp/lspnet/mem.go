package lspnet

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// memQueue is how many datagrams an in-memory socket holds unread before it loses more, like
// a socket's receive buffer.
const memQueue = 4096

// memNet is the switch of an in-memory network: sockets by port.
type memNet struct {
	ports sync.Map     // int -> *memConn
	next  atomic.Int32 // the last port handed out for port 0
}

func newMemNet() *memNet {
	n := &memNet{}
	n.next.Store(39999)
	return n
}

var memIP = net.IPv4(127, 0, 0, 1)

// listen opens a socket at laddr (any port if nil or 0), connected to peer if peer is not nil.
func (n *memNet) listen(laddr, peer *net.UDPAddr) (*memConn, error) {
	c := &memConn{
		net:  n,
		in:   make(chan memDatagram, memQueue),
		done: make(chan struct{}),
	}
	if peer != nil {
		c.peer = &net.UDPAddr{IP: memIP, Port: peer.Port}
	}
	if laddr != nil && laddr.Port != 0 {
		if _, taken := n.ports.LoadOrStore(laddr.Port, c); taken {
			return nil, fmt.Errorf("lspnet: listen on in-memory port %d: %w", laddr.Port, errAddrInUse)
		}
		c.addr = &net.UDPAddr{IP: memIP, Port: laddr.Port}
		return c, nil
	}
	for range 65535 {
		port := int(n.next.Add(1)) % 65536
		if port == 0 {
			continue
		}
		if _, taken := n.ports.LoadOrStore(port, c); !taken {
			c.addr = &net.UDPAddr{IP: memIP, Port: port}
			return c, nil
		}
	}
	return nil, fmt.Errorf("lspnet: listen on an in-memory port: %w", errAddrInUse)
}

var errAddrInUse = errors.New("address already in use")

func (n *memNet) deliver(from *net.UDPAddr, to *net.UDPAddr, b []byte) {
	v, ok := n.ports.Load(to.Port)
	if !ok {
		return
	}
	dst := v.(*memConn)
	select {
	case dst.in <- memDatagram{from: from, data: append([]byte(nil), b...)}:
	case <-dst.done:
	default: // queue full: lost
	}
}

type memDatagram struct {
	from *net.UDPAddr
	data []byte
}

// memConn is one in-memory socket. It implements packetConn.
type memConn struct {
	net  *memNet
	addr *net.UDPAddr
	peer *net.UDPAddr // a dialed socket's peer; it reads only from there
	in   chan memDatagram
	done chan struct{}
	once sync.Once

	deadline atomic.Int64 // read deadline in Unix nanoseconds; 0: none
}

func (c *memConn) ReadFromUDP(b []byte) (int, *net.UDPAddr, error) {
	var expired <-chan time.Time
	if deadline := c.deadline.Load(); deadline != 0 {
		t := time.NewTimer(time.Until(time.Unix(0, deadline)))
		defer t.Stop()
		expired = t.C
	}
	for {
		select {
		case d := <-c.in:
			if c.peer != nil && d.from.Port != c.peer.Port {
				continue // a connected socket hears only its peer
			}
			return copy(b, d.data), d.from, nil
		case <-c.done:
			return 0, nil, c.opErr("read", net.ErrClosed)
		case <-expired:
			return 0, nil, c.opErr("read", os.ErrDeadlineExceeded)
		}
	}
}

func (c *memConn) Read(b []byte) (int, error) {
	n, _, err := c.ReadFromUDP(b)
	return n, err
}

func (c *memConn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) {
	select {
	case <-c.done:
		return 0, c.opErr("write", net.ErrClosed)
	default:
	}
	c.net.deliver(c.addr, addr, b)
	return len(b), nil
}

func (c *memConn) Write(b []byte) (int, error) {
	if c.peer == nil {
		return 0, ErrNoPeer
	}
	return c.WriteToUDP(b, c.peer)
}

// Close frees the port; it returns net.ErrClosed the second time, as a socket does.
func (c *memConn) Close() error {
	err := c.opErr("close", net.ErrClosed)
	c.once.Do(func() {
		err = nil
		close(c.done)
		c.net.ports.CompareAndDelete(c.addr.Port, c)
	})
	return err
}

func (c *memConn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "udp", Addr: c.addr, Err: err}
}

func (c *memConn) LocalAddr() net.Addr { return c.addr }

func (c *memConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		c.deadline.Store(0)
	} else {
		c.deadline.Store(t.UnixNano())
	}
	return nil
}

func (c *memConn) SetReadBuffer(int) error  { return nil }
func (c *memConn) SetWriteBuffer(int) error { return nil }
