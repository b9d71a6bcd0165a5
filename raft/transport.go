package raft

import (
	"context"
	"errors"
	"net"
	"net/rpc"
	"sync"
	"sync/atomic"
	"time"

	"ds440/internal/tcpserve"
)

// DefaultCallTimeout bounds one RPC over TCP, dial included.
const DefaultCallTimeout = time.Second

// TCPPeer is a Peer reaching a remote Raft over net/rpc on TCP, with a compact binary codec
// for Raft's messages (see codec.go) in place of gob. It dials lazily, redials after
// any transport failure, and bounds every call by its timeout. It is safe for concurrent use;
// concurrent calls share one connection.
type TCPPeer struct {
	addr    string
	timeout time.Duration

	mu     sync.Mutex
	client *rpc.Client
	closed bool
	sent   atomic.Int64 // bytes written on all connections
}

// countingConn counts the bytes written through it.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// BytesSent returns how many bytes the peer has written to the network (requests with their
// framing).
func (p *TCPPeer) BytesSent() int64 { return p.sent.Load() }

// NewTCPPeer returns a Peer for the Raft server listening at addr. A timeout of 0 means
// DefaultCallTimeout.
func NewTCPPeer(addr string, timeout time.Duration) *TCPPeer {
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	return &TCPPeer{addr: addr, timeout: timeout}
}

// Call sends an RPC and waits for its reply; false on any failure or after the timeout.
func (p *TCPPeer) Call(svcMeth string, args any, reply any) bool {
	return p.CallContext(context.Background(), svcMeth, args, reply)
}

// CallContext is Call that also gives up, reporting false, as soon as ctx is done.
func (p *TCPPeer) CallContext(ctx context.Context, svcMeth string, args any, reply any) bool {
	deadline := time.Now().Add(p.timeout)
	c := p.connect(ctx, deadline)
	if c == nil {
		return false
	}
	call := c.Go(svcMeth, args, reply, make(chan *rpc.Call, 1))
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-call.Done:
		if call.Error == nil {
			return true
		}
		var serverErr rpc.ServerError
		if !errors.As(call.Error, &serverErr) {
			p.drop(c) // the connection is broken; redial next time
		}
		return false
	case <-timer.C:
		// The peer is stuck or the network is: a fresh connection is likelier to work than
		// one with a request stuck in it.
		p.drop(c)
		return false
	case <-ctx.Done():
		return false // the call stays pending in net/rpc until its reply or the connection ends
	}
}

func (p *TCPPeer) connect(ctx context.Context, deadline time.Time) *rpc.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	if p.client != nil {
		return p.client
	}
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil
	}
	p.client = rpc.NewClientWithCodec(newClientCodec(countingConn{conn, &p.sent}))
	return p.client
}

func (p *TCPPeer) drop(c *rpc.Client) {
	p.mu.Lock()
	if p.client == c {
		p.client = nil
	}
	p.mu.Unlock()
	c.Close()
}

// Close closes the connection; later calls fail at once. Close is idempotent.
func (p *TCPPeer) Close() error {
	p.mu.Lock()
	c := p.client
	p.client, p.closed = nil, true
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
	return nil
}

// rpcService adapts Raft's handlers to net/rpc's method shape (they must return an error; a
// killed server's error makes the caller's Call report false).
type rpcService struct{ rf *Raft }

func (s *rpcService) RequestVote(args *RequestVoteArgs, reply *RequestVoteReply) error {
	return s.rf.requestVote(args, reply)
}

func (s *rpcService) AppendEntries(args *AppendEntriesArgs, reply *AppendEntriesReply) error {
	return s.rf.appendEntries(args, reply)
}

func (s *rpcService) InstallSnapshot(args *InstallSnapshotArgs, reply *InstallSnapshotReply) error {
	return s.rf.installSnapshot(args, reply)
}

// TCPServer serves one Raft's RPCs over net/rpc on a listener.
type TCPServer struct {
	srv *tcpserve.Server
}

// ServeTCP serves rf's RPC handlers on ln until Close. The server owns ln. A failing Accept
// (out of file descriptors, say) is retried after a back-off, not the end of the service.
func ServeTCP(ln net.Listener, rf *Raft) (*TCPServer, error) {
	rs := rpc.NewServer()
	if err := rs.RegisterName("Raft", &rpcService{rf}); err != nil {
		return nil, err
	}
	serve := func(conn net.Conn) { rs.ServeCodec(newServerCodec(conn)) }
	return &TCPServer{srv: tcpserve.Start(ln, serve, rf.log)}, nil
}

// Addr returns the listening address.
func (s *TCPServer) Addr() net.Addr { return s.srv.Addr() }

// Close stops accepting, closes every connection and waits for the serving goroutines. It is
// idempotent.
func (s *TCPServer) Close() error { return s.srv.Close() }
