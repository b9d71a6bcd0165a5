package actor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
)

// Transport carries the connections between actor systems: where a system listens and how it
// reaches another. TCPTransport is the real one; an InmemNetwork connects the systems of one
// process through in-memory pipes, with no sockets, so tests of remote messaging can run under
// testing/synctest and in parallel.
type Transport interface {
	// Listen listens on addr ("host:port"; port 0 picks a free one). The listener's Addr
	// must print as the "host:port" that Dial reaches.
	Listen(addr string) (net.Listener, error)
	// Dial connects to the listener at addr, giving up when ctx is done.
	Dial(ctx context.Context, addr string) (net.Conn, error)
}

// TCPTransport is the Transport over TCP, the default.
type TCPTransport struct{}

// Listen implements Transport.
func (TCPTransport) Listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// Dial implements Transport.
func (TCPTransport) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// ErrConnRefused is returned by an InmemNetwork's Dial when nothing listens on the address.
var ErrConnRefused = errors.New("actor: connection refused")

// InmemNetwork is a Transport whose listeners and connections live in memory (net.Pipe): the
// in-process twin of TCPTransport. Systems that share one network reach each other by address
// exactly as over TCP, restarts on the same address included. Its zero value is not usable;
// call NewInmemNetwork.
type InmemNetwork struct {
	mu        sync.Mutex
	listeners map[string]*inmemListener
	nextPort  int
}

// NewInmemNetwork returns an empty in-memory network.
func NewInmemNetwork() *InmemNetwork {
	return &InmemNetwork{listeners: map[string]*inmemListener{}, nextPort: 1024}
}

// Listen implements Transport. Port 0 picks a port no listener of this network uses.
func (n *InmemNetwork) Listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return nil, fmt.Errorf("actor: inmem listen %q: bad port", addr)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if p == 0 {
		for {
			n.nextPort++
			if n.nextPort > 65535 {
				n.nextPort = 1025
			}
			if _, used := n.listeners[net.JoinHostPort(host, strconv.Itoa(n.nextPort))]; !used {
				p = n.nextPort
				break
			}
		}
	}
	key := net.JoinHostPort(host, strconv.Itoa(p))
	if _, used := n.listeners[key]; used {
		return nil, fmt.Errorf("actor: inmem listen %s: address already in use", key)
	}
	l := &inmemListener{net: n, addr: inmemAddr(key), conns: make(chan net.Conn), done: make(chan struct{})}
	n.listeners[key] = l
	return l, nil
}

// Dial implements Transport: the connection is a net.Pipe whose other end the listener at
// addr accepts.
func (n *InmemNetwork) Dial(ctx context.Context, addr string) (net.Conn, error) {
	n.mu.Lock()
	l := n.listeners[addr]
	n.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("actor: dial %s: %w", addr, ErrConnRefused)
	}
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		client.Close()
		server.Close()
		return nil, fmt.Errorf("actor: dial %s: %w", addr, ErrConnRefused)
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, ctx.Err()
	}
}

type inmemAddr string

func (a inmemAddr) Network() string { return "inmem" }
func (a inmemAddr) String() string  { return string(a) }

type inmemListener struct {
	net   *InmemNetwork
	addr  inmemAddr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *inmemListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close frees the address at once, so a system can listen on it again (a restart).
func (l *inmemListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.net.mu.Lock()
		if l.net.listeners[string(l.addr)] == l {
			delete(l.net.listeners, string(l.addr))
		}
		l.net.mu.Unlock()
	})
	return nil
}

func (l *inmemListener) Addr() net.Addr { return l.addr }
