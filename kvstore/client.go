package kvstore

import (
	"context"
	"errors"
	"fmt"
	"net/rpc"
	"strings"
	"sync"
	"time"

	"ds440/actor"
)

// QueryRouter chooses the query actor for each RPC. NextAddr is called before every call.
type QueryRouter interface {
	NextAddr() string
}

// ErrClientClosed is returned by calls on a closed Client.
var ErrClientClosed = errors.New("kvstore: client closed")

// Client talks to query actors over net/rpc. It is safe for concurrent use and never
// serialises calls: it keeps one connection per address, and net/rpc runs calls on one
// connection concurrently.
type Client struct {
	router      QueryRouter
	transport   actor.Transport
	dialTimeout time.Duration

	mu     sync.Mutex
	conns  map[string]*rpc.Client
	closed bool
}

// ClientConfig configures a client made by NewClientConfig.
type ClientConfig struct {
	// Router chooses the query actor of each call.
	Router QueryRouter
	// Transport reaches the query actors: the servers' Config.Transport. Default
	// actor.TCPTransport.
	Transport actor.Transport
	// DialTimeout bounds a dial to a query actor; default DefaultDialTimeout.
	DialTimeout time.Duration
}

// DefaultDialTimeout bounds a client's dial to a query actor (ClientConfig.DialTimeout).
const DefaultDialTimeout = 10 * time.Second

// NewClientConfig returns a client configured by cfg.
func NewClientConfig(cfg ClientConfig) *Client {
	if cfg.Transport == nil {
		cfg.Transport = actor.TCPTransport{}
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	return &Client{router: cfg.Router, transport: cfg.Transport, dialTimeout: cfg.DialTimeout, conns: map[string]*rpc.Client{}}
}

// Get returns key's value, or ("", false, nil) if it is absent.
func (c *Client) Get(key string) (value string, ok bool, err error) {
	var reply GetReply
	if err := c.call("QueryReceiver.Get", &GetArgs{Key: key}, &reply); err != nil {
		return "", false, err
	}
	return reply.Value, reply.Ok, nil
}

// List returns every key with the prefix and its value; the map is never nil.
func (c *Client) List(prefix string) (map[string]string, error) {
	var reply ListReply
	if err := c.call("QueryReceiver.List", &ListArgs{Prefix: prefix}, &reply); err != nil {
		return map[string]string{}, err
	}
	if reply.Entries == nil {
		reply.Entries = map[string]string{}
	}
	return reply.Entries, nil
}

// Put sets key to value. On a server with Config.PeerAcks > 0 it returns once that many other
// servers hold the Put, or ErrNotReplicated.
func (c *Client) Put(key, value string) error {
	return c.call("QueryReceiver.Put", &PutArgs{Key: key, Value: value}, &PutReply{})
}

// Close closes every connection; later calls return ErrClientClosed. Safe to call twice.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for addr, conn := range c.conns {
		conn.Close()
		delete(c.conns, addr)
	}
}

// call sends one RPC to the address the router picks. A connection that has failed is dropped
// and redialled once, so a restarted server is reached again without the caller's help.
func (c *Client) call(method string, args, reply any) error {
	addr := c.router.NextAddr()
	for attempt := 0; ; attempt++ {
		conn, err := c.conn(addr)
		if err != nil {
			return err
		}
		err = conn.Call(method, args, reply)
		if err == nil {
			return nil
		}
		if se, ok := err.(rpc.ServerError); ok && strings.HasPrefix(string(se), ErrNotReplicated.Error()) {
			// net/rpc carries only the text of a server's error: give the caller the sentinel.
			return fmt.Errorf("kvstore: %s at %s: %w%s", method, addr, ErrNotReplicated, strings.TrimPrefix(string(se), ErrNotReplicated.Error()))
		}
		if !errors.Is(err, rpc.ErrShutdown) || attempt > 0 {
			return fmt.Errorf("kvstore: %s at %s: %w", method, addr, err)
		}
		c.forget(addr, conn)
	}
}

// conn returns the connection to addr, dialling it if there is none. The dial happens outside
// the lock, so a slow or dead address does not hold up calls to the others.
func (c *Client) conn(addr string) (*rpc.Client, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClientClosed
	}
	if conn := c.conns[addr]; conn != nil {
		c.mu.Unlock()
		return conn, nil
	}
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), c.dialTimeout)
	nc, err := c.transport.Dial(ctx, addr)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("kvstore: dial %s: %w", addr, err)
	}
	conn := rpc.NewClient(nc)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return nil, ErrClientClosed
	}
	if existing := c.conns[addr]; existing != nil {
		conn.Close() // another call dialled first; share its connection
		return existing, nil
	}
	c.conns[addr] = conn
	return conn, nil
}

func (c *Client) forget(addr string, conn *rpc.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns[addr] == conn {
		delete(c.conns, addr)
		conn.Close()
	}
}
