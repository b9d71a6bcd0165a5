package lsp

// outMsg is one written message waiting for its ack.
type outMsg struct {
	payload  []byte
	checksum uint16
	sent     bool
	acked    bool
	skip     int // epochs still to let pass before the next retransmission
	interval int // epochs to let pass after the next retransmission
}

// sendWindow numbers outgoing messages and decides when each is sent and resent. Messages are
// first sent in sequence order, so the sent ones are always a prefix of pending.
type sendWindow struct {
	window     int // send seq s only if s < base+window
	maxUnacked int // at most this many sent-but-unacked messages
	maxBackoff int // cap on the epochs let pass between two retransmissions

	base    int      // sequence number of pending[0], the oldest unacked message
	pending []outMsg // messages base, base+1, ...: every one not yet acked, and acked ones behind them
	nsent   int      // pending[:nsent] have been sent
	unacked int      // sent but not acked
}

func newSendWindow(firstSeq int, p Params) sendWindow {
	return sendWindow{window: p.WindowSize, maxUnacked: p.MaxUnackedMessages, maxBackoff: p.MaxBackOffInterval, base: firstSeq}
}

// idle reports whether every written message has been acked.
func (w *sendWindow) idle() bool { return len(w.pending) == 0 }

// push queues a payload for sending.
func (w *sendWindow) push(payload []byte) {
	w.pending = append(w.pending, outMsg{payload: payload})
}

// fill appends to out every queued message that the window and the unacked cap now allow.
func (w *sendWindow) fill(connID int, out []Message) []Message {
	for w.nsent < len(w.pending) && w.nsent < w.window && w.unacked < w.maxUnacked {
		m := &w.pending[w.nsent]
		seq := w.base + w.nsent
		msg := newData(connID, seq, m.payload)
		m.checksum, m.sent, m.skip, m.interval = msg.Checksum, true, 0, 0
		out = append(out, msg)
		w.nsent++
		w.unacked++
	}
	return out
}

// tick appends to out the messages whose backoff expires at this epoch boundary: a message
// is resent at the first boundary after its send, then after letting 1, 2, 4, ... epochs pass,
// the gap capped at maxBackoff.
func (w *sendWindow) tick(connID int, out []Message) []Message {
	for i := range w.nsent {
		m := &w.pending[i]
		if m.acked {
			continue
		}
		if m.skip > 0 {
			m.skip--
			continue
		}
		out = append(out, Message{
			Type: MsgData, ConnID: connID, SeqNum: w.base + i,
			Size: len(m.payload), Payload: m.payload, Checksum: m.checksum,
		})
		m.interval = min(max(2*m.interval, 1), w.maxBackoff)
		m.skip = m.interval
	}
	return out
}

// ack marks message seq acked and reports whether it was sent and not acked before.
func (w *sendWindow) ack(seq int) bool {
	i := seq - w.base
	if i < 0 || i >= w.nsent || w.pending[i].acked {
		return false
	}
	w.pending[i].acked = true
	w.unacked--
	w.advance()
	return true
}

// cack marks every sent message up to seq acked and reports how many were newly acked.
func (w *sendWindow) cack(seq int) int {
	n := 0
	for i := 0; i < w.nsent && w.base+i <= seq; i++ {
		if !w.pending[i].acked {
			w.pending[i].acked = true
			w.unacked--
			n++
		}
	}
	w.advance()
	return n
}

// advance drops the acked prefix, moving the window forward.
func (w *sendWindow) advance() {
	n := 0
	for n < w.nsent && w.pending[n].acked {
		w.pending[n] = outMsg{} // let the payload be collected
		n++
	}
	if n == 0 {
		return
	}
	w.pending = w.pending[n:]
	w.base += n
	w.nsent -= n
	if len(w.pending) == 0 {
		w.pending = w.pending[:0:0]
	}
}

// recvWindow puts incoming messages back in order and suppresses duplicates.
type recvWindow struct {
	next     int            // sequence number of the next message to deliver
	maxAhead int            // messages at or past next+maxAhead are refused, unacked
	early    map[int][]byte // received messages waiting for a gap before them to fill
}

// reorderLimit bounds how far ahead of the next expected message a receiver buffers, so that
// a peer (or a corrupted sequence number) cannot make it hold unbounded memory. A sender that
// runs further ahead than this simply has those messages resent later.
const reorderLimit = 1 << 12

func newRecvWindow(firstSeq int, p Params) recvWindow {
	return recvWindow{next: firstSeq, maxAhead: max(p.WindowSize, reorderLimit)}
}

// recvResult says what became of a received data message.
type recvResult int

const (
	recvDelivered recvResult = iota // delivered in order, possibly with buffered successors
	recvBuffered                    // held until the gap before it fills
	recvDuplicate                   // already received; ack it again, deliver nothing
	recvTooFar                      // beyond the reorder limit; dropped without an ack
)

// receive accepts message seq and appends the payloads now deliverable in order to out.
func (r *recvWindow) receive(seq int, payload []byte, out [][]byte) ([][]byte, recvResult) {
	switch {
	case seq < r.next:
		return out, recvDuplicate
	case seq-r.next >= r.maxAhead:
		return out, recvTooFar
	case seq > r.next:
		if _, dup := r.early[seq]; dup {
			return out, recvDuplicate
		}
		if r.early == nil {
			r.early = make(map[int][]byte)
		}
		r.early[seq] = payload
		return out, recvBuffered
	}
	out = append(out, payload)
	r.next++
	for len(r.early) > 0 {
		p, ok := r.early[r.next]
		if !ok {
			break
		}
		delete(r.early, r.next)
		out = append(out, p)
		r.next++
	}
	return out, recvDelivered
}
