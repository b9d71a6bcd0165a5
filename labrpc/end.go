package labrpc

import (
	"context"
	"fmt"
)

// ClientEnd is one client's connection into a Network, like a socket that can be plugged into a
// server and cut off. It is safe for concurrent use.
type ClientEnd struct {
	name any
	net  *Network
}

// handlerResult is what a handler goroutine hands back to the waiting call.
type handlerResult struct {
	reply *stream
	size  int
	err   error
}

// Call sends an RPC and waits for the reply; false if the network or server lost it.
// Arguments and replies are copied through encoding/gob, as over a real wire, so reply must be a
// pointer to a zero value of the handler's reply type. Call always returns: a lost message
// reports false after a delay (up to 100 ms, or 7 s with long delays), never hangs.
func (e *ClientEnd) Call(svcMeth string, args any, reply any) bool {
	return e.CallContext(context.Background(), svcMeth, args, reply)
}

// CallContext is Call that gives up as soon as ctx is done, reporting false: the caller stops
// waiting, as a real client closing its end of a connection would. A request already delivered
// may still run its handler.
func (e *ClientEnd) CallContext(ctx context.Context, svcMeth string, args any, reply any) bool {
	if e == nil || e.net == nil {
		return false
	}
	n := e.net
	n.checkWire(args)
	n.checkWire(reply)
	if !isZero(reply) {
		n.warn(fmt.Sprintf("labrpc: %s: reply decoded into a non-zero %T; gob leaves fields the server "+
			"set to zero unchanged, so pass a fresh reply", svcMeth, reply))
	}
	req, size, err := send(args)
	if err != nil {
		n.warn(fmt.Sprintf("labrpc: %s: encoding the arguments: %v", svcMeth, err))
		return false
	}

	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return false
	}
	n.count++
	n.bytes += int64(size)
	servername, rs := n.route(e.name)
	if rs == nil {
		delay := n.faults.unreachableDelay(n.rng)
		n.mu.Unlock()
		n.sleep(ctx, delay)
		return false
	}
	ft := n.faults.decide(n.rng)
	n.mu.Unlock()

	if !n.sleep(ctx, ft.requestDelay) || ft.dropRequest {
		return false
	}
	resp, ok := e.deliver(ctx, servername, rs, svcMeth, req)
	if !ok || ft.dropReply || !n.sleep(ctx, ft.replyDelay) {
		return false
	}
	if err := resp.receive(reply); err != nil {
		n.warn(fmt.Sprintf("labrpc: %s: decoding the reply into %T: %v", svcMeth, reply, err))
		return false
	}
	return true
}

// deliver runs the handler on rs and waits for its encoded reply. The reply is lost if the end
// is cut off or the server killed or replaced before the handler returns, the network is
// cleaned up, or ctx is done.
func (e *ClientEnd) deliver(ctx context.Context, servername any, rs *Server, svcMeth string, req *stream) (*stream, bool) {
	n := e.net
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, false
	}
	if s, srv := n.route(e.name); s != servername || srv != rs {
		n.mu.Unlock()
		return nil, false // cut off while the request was on its way
	}
	changed := n.changed
	n.inflight++
	n.mu.Unlock()

	results := make(chan handlerResult, 1)
	go func() {
		defer n.handlerDone()
		reply, size, err := rs.dispatch(svcMeth, req)
		results <- handlerResult{reply, size, err}
	}()

	for {
		select {
		case r := <-results:
			if r.err != nil {
				n.warn(r.err.Error())
				return nil, false
			}
			n.mu.Lock()
			n.bytes += int64(r.size)
			s, srv := n.route(e.name)
			n.mu.Unlock()
			return r.reply, s == servername && srv == rs
		case <-changed:
			n.mu.Lock()
			s, srv := n.route(e.name)
			changed = n.changed
			n.mu.Unlock()
			if s != servername || srv != rs {
				return nil, false
			}
		case <-n.done:
			return nil, false
		case <-ctx.Done():
			return nil, false
		}
	}
}

// handlerDone accounts for a finished handler goroutine, letting Cleanup return once the last
// one is gone.
func (n *Network) handlerDone() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.inflight--
	if n.closed && n.inflight == 0 {
		close(n.idle)
	}
}
