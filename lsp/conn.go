package lsp

// conn is the protocol state of one end of one connection: a deterministic state machine
// with no goroutines, clock or socket. The event loops feed it received messages, epoch
// ticks, writes and a close, and after each event carry out what it asks for: the datagrams
// in its outbox and the payloads it delivered in order. Both the client and the server use it,
// so every protocol rule lives here once and is tested here, epoch by epoch.
type conn struct {
	p   Params
	id  int // connection id; 0 until a connecting client is acked
	isn int // the client's initial sequence number

	server bool // the server's end: answers duplicate Connects

	connecting bool // a client whose Connect has not been acked yet
	closing    bool // no more writes; done once everything written is acked
	lost       bool // EpochLimit epochs of silence; the connection is dead

	snd sendWindow
	rcv recvWindow

	silent        int  // epoch boundaries passed since the peer was last heard
	sentThisEpoch bool // something was sent since the last epoch boundary

	out       []Message // datagrams to send, taken by outbox
	delivered [][]byte  // payloads delivered in order, taken by deliveries
	stats     connStats
}

// connStats counts what a connection saw, for tests and debugging.
type connStats struct {
	Sent, Retransmitted, Heartbeats int // data sent first, data resent, heartbeats sent
	Received, Delivered, Duplicates int // data messages accepted, delivered, already seen
	Corrupt, WrongConn, OutOfRange  int // datagrams dropped: bad size/checksum, other connection, impossible or too far ahead seq
}

// newClientConn returns a client connection that has just sent Connect(isn).
func newClientConn(isn int, p Params) *conn {
	c := &conn{p: p, isn: isn, connecting: true}
	c.snd = newSendWindow(isn+1, p)
	c.rcv = newRecvWindow(isn+1, p)
	c.send(Message{Type: MsgConnect, SeqNum: isn})
	return c
}

// newServerConn returns the server's end of a connection just accepted from Connect(isn),
// having sent the Ack that accepts it.
func newServerConn(id, isn int, p Params) *conn {
	c := &conn{p: p, id: id, isn: isn, server: true}
	c.snd = newSendWindow(isn+1, p)
	c.rcv = newRecvWindow(isn+1, p)
	c.send(Message{Type: MsgAck, ConnID: id, SeqNum: isn})
	return c
}

// send queues one datagram.
func (c *conn) send(m Message) {
	c.out = append(c.out, m)
	c.sentThisEpoch = true
}

// outbox returns the datagrams to send and empties it. The slice is reused by the next event,
// so the caller sends them before feeding the next one.
func (c *conn) outbox() []Message {
	out := c.out
	c.out = c.out[:0]
	return out
}

// deliveries returns the payloads delivered in order since the last call and empties the
// list. Like outbox, the slice is reused by the next event.
func (c *conn) deliveries() [][]byte {
	d := c.delivered
	c.delivered = c.delivered[:0]
	return d
}

// done reports whether a closing connection has had everything it wrote acked.
func (c *conn) done() bool { return c.closing && c.snd.idle() }

// write queues a payload; it is sent as soon as the window allows. Writes to a connection that
// is connecting, closing or lost are the caller's mistake and are ignored.
func (c *conn) write(payload []byte) {
	if c.connecting || c.closing || c.lost {
		return
	}
	c.snd.push(payload)
	c.fill()
}

// close stops further writes; the connection is done once everything written is acked.
func (c *conn) close() { c.closing = true }

// fill sends whatever the window now allows.
func (c *conn) fill() {
	n := len(c.out)
	c.out = c.snd.fill(c.id, c.out)
	if sent := len(c.out) - n; sent > 0 {
		c.stats.Sent += sent
		c.sentThisEpoch = true
	}
}

// receive handles one datagram from the peer. m.Payload is kept (and may be delivered), so
// the caller must not reuse it.
func (c *conn) receive(m *Message) {
	if c.lost {
		return
	}
	if c.connecting {
		if m.Type != MsgAck || m.SeqNum != c.isn {
			c.stats.WrongConn++
			return
		}
		c.connecting = false
		c.id = m.ConnID
		c.silent = 0
		return
	}
	if m.Type == MsgConnect {
		// A Connect carries no connection id; the server loop routes it here by the client's
		// address and initial sequence number. It means our Ack was lost: repeat it.
		if m.SeqNum == c.isn && c.server {
			c.silent = 0
			c.send(Message{Type: MsgAck, ConnID: c.id, SeqNum: c.isn})
		}
		return
	}
	if m.ConnID != c.id {
		c.stats.WrongConn++
		return
	}
	// Anything addressed to this connection shows the peer is alive, even a damaged message.
	c.silent = 0
	switch m.Type {
	case MsgData:
		c.receiveData(m)
	case MsgAck:
		if m.SeqNum == 0 {
			return // a heartbeat
		}
		n := len(c.out)
		var newly bool
		if c.out, newly = c.snd.ack(c.id, m.SeqNum, c.out); newly {
			if resent := len(c.out) - n; resent > 0 {
				c.stats.Retransmitted += resent
				c.sentThisEpoch = true
			}
			c.fill()
		}
	case MsgCAck:
		if c.snd.cack(m.SeqNum) > 0 {
			c.fill()
		}
	}
}

func (c *conn) receiveData(m *Message) {
	if !m.checkData() {
		c.stats.Corrupt++
		return
	}
	var res recvResult
	n := len(c.delivered)
	c.delivered, res = c.rcv.receive(m.SeqNum, m.Payload, c.delivered)
	switch res {
	case recvOutOfRange:
		c.stats.OutOfRange++
		return
	case recvDuplicate:
		c.stats.Duplicates++
	default:
		c.stats.Received++
		c.stats.Delivered += len(c.delivered) - n
	}
	// Every intact message, a duplicate too (its first ack may have been lost), gets its own
	// Ack at once. A CAck would free the sender of messages a course-conformant peer still
	// counts as unacked, so none is sent; received CAcks are still honoured.
	c.send(Message{Type: MsgAck, ConnID: c.id, SeqNum: m.SeqNum})
}

// tick handles an epoch boundary: count the silence, resend what is due, keep the peer
// informed with a heartbeat if nothing else was sent during the epoch.
func (c *conn) tick() {
	if c.lost {
		return
	}
	c.silent++
	if c.silent >= c.p.EpochLimit {
		c.lost = true
		c.out = c.out[:0]
		return
	}
	if c.connecting {
		c.send(Message{Type: MsgConnect, SeqNum: c.isn})
		return
	}
	n := len(c.out)
	c.out = c.snd.tick(c.id, c.out)
	if resent := len(c.out) - n; resent > 0 {
		c.stats.Retransmitted += resent
		c.sentThisEpoch = true
	}
	if !c.sentThisEpoch {
		c.stats.Heartbeats++
		c.send(Message{Type: MsgAck, ConnID: c.id})
	}
	c.sentThisEpoch = false
}
