package bitcoin

import (
	"errors"
	"sync"
)

// fakeNet is an in-memory ServerTransport with lsp-like semantics: reliable, ordered, one
// inbound queue at the server, an error from Read when a connection goes away. It lets the
// server's loop be tested without sockets or timing.
type fakeNet struct {
	mu      sync.Mutex
	next    int
	conns   map[int]*fakeConn
	inbox   chan inbound
	closed  chan struct{}
	closing sync.Once
	// closedConns records the conns the server closed with CloseConn, for assertions.
	closedConns []int
}

var (
	errFakeClosed = errors.New("fake: transport closed")
	errFakeLost   = errors.New("fake: connection lost")
)

func newFakeNet() *fakeNet {
	return &fakeNet{conns: map[int]*fakeConn{}, inbox: make(chan inbound, 4096), closed: make(chan struct{})}
}

// fakeConn is the client side of one connection.
type fakeConn struct {
	n      *fakeNet
	id     int
	inbox  chan []byte
	gone   chan struct{} // closed when either side ends the connection
	ending sync.Once
}

func (n *fakeNet) dial() *fakeConn {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.next++
	c := &fakeConn{n: n, id: n.next, inbox: make(chan []byte, 4096), gone: make(chan struct{})}
	n.conns[c.id] = c
	return c
}

func (n *fakeNet) Read() (int, []byte, error) {
	select {
	case in := <-n.inbox:
		return in.conn, in.payload, in.err
	case <-n.closed:
		return 0, nil, errFakeClosed
	}
}

func (n *fakeNet) Write(id int, payload []byte) error {
	n.mu.Lock()
	c := n.conns[id]
	n.mu.Unlock()
	if c == nil {
		return errFakeLost
	}
	select {
	case <-c.gone:
		return errFakeLost
	default:
	}
	c.inbox <- append([]byte(nil), payload...)
	return nil
}

func (n *fakeNet) CloseConn(id int) error {
	n.mu.Lock()
	c := n.conns[id]
	n.closedConns = append(n.closedConns, id)
	n.mu.Unlock()
	if c == nil {
		return errFakeLost
	}
	c.end()
	return nil
}

func (n *fakeNet) Close() error {
	n.closing.Do(func() { close(n.closed) })
	return nil
}

func (n *fakeNet) closedByServer() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]int(nil), n.closedConns...)
}

func (c *fakeConn) send(payload []byte) {
	select {
	case <-c.gone:
	default:
		c.n.inbox <- inbound{conn: c.id, payload: payload}
	}
}

func (c *fakeConn) Write(payload []byte) error {
	select {
	case <-c.gone:
		return errFakeLost
	default:
	}
	c.send(append([]byte(nil), payload...))
	return nil
}

// Read returns what the server sent, in order; once the connection has ended and nothing is
// left, an error, as lsp.Client does.
func (c *fakeConn) Read() ([]byte, error) {
	select {
	case p := <-c.inbox:
		return p, nil
	default:
	}
	select {
	case p := <-c.inbox:
		return p, nil
	case <-c.gone:
		select {
		case p := <-c.inbox:
			return p, nil
		default:
			return nil, errFakeLost
		}
	}
}

// Close ends the connection; the server's Read reports it as lost, like a crashed peer.
func (c *fakeConn) Close() error {
	c.end()
	return nil
}

func (c *fakeConn) end() {
	c.ending.Do(func() {
		close(c.gone)
		c.n.inbox <- inbound{conn: c.id, err: errFakeLost}
	})
}
