package lsp

// outMsg is one written message waiting for its ack.
type outMsg struct {
	payload  []byte
	checksum uint16
	sent     bool
	acked    bool
	skip     int // epochs still to let pass before the next retransmission
	interval int // epochs to let pass after the next retransmission
	stamp    int // sendWindow.sends when this message was last sent
	passed   int // acks of messages sent after this one's last send
}

// fastResend is how many acks of messages sent after a message make a sender resend it at
// once rather than at the next epoch boundary: with every message acked on its own, acks
// overtaking a message mean it (or its ack) was lost. Three, TCP's duplicate-ack threshold,
// so that mere reordering rarely triggers it. Only acks of messages sent after the resend
// count towards the next one, so a message is resent this way at most about once a round trip.
const fastResend = 3

// sendWindow numbers outgoing messages and decides when each is sent and resent. Messages are
// first sent in sequence order, so the sent ones are always a prefix of the queue.
type sendWindow struct {
	window     int // send seq s only if s < base+window
	maxUnacked int // at most this many sent-but-unacked messages
	maxBackoff int // cap on the epochs let pass between two retransmissions

	// q[head:] holds messages base, base+1, ...: every one not yet acked, and acked ones
	// behind an unacked one. Acked messages leave from the front by moving head, and the
	// storage is reused once the queue drains, so a steady stream allocates nothing.
	q       []outMsg
	head    int
	base    int // sequence number of q[head], the oldest unacked message
	nsent   int // q[head:head+nsent] have been sent
	unacked int // sent but not acked
	sends   int // transmissions so far, first sends and resends: the order of sends
}

func newSendWindow(firstSeq int, p Params) sendWindow {
	return sendWindow{window: p.WindowSize, maxUnacked: p.MaxUnackedMessages, maxBackoff: p.MaxBackOffInterval, base: firstSeq}
}

// idle reports whether every written message has been acked.
func (w *sendWindow) idle() bool { return w.head == len(w.q) }

// at returns message base+i.
func (w *sendWindow) at(i int) *outMsg { return &w.q[w.head+i] }

// queued is the number of messages written and not yet dropped from the front.
func (w *sendWindow) queued() int { return len(w.q) - w.head }

// push queues a payload for sending.
func (w *sendWindow) push(payload []byte) {
	w.q = append(w.q, outMsg{payload: payload})
}

// fill appends to out every queued message that the window and the unacked cap now allow.
func (w *sendWindow) fill(connID int, out []Message) []Message {
	for w.nsent < w.queued() && w.nsent < w.window && w.unacked < w.maxUnacked {
		m := w.at(w.nsent)
		seq := w.base + w.nsent
		msg := newData(connID, seq, m.payload)
		w.sends++
		m.checksum, m.sent, m.skip, m.interval, m.stamp = msg.Checksum, true, 0, 0, w.sends
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
		m := w.at(i)
		if m.acked {
			continue
		}
		if m.skip > 0 {
			m.skip--
			continue
		}
		out = append(out, w.resend(connID, i))
		m.interval = min(max(2*m.interval, 1), w.maxBackoff)
		m.skip = m.interval
	}
	return out
}

// resend returns message base+i for sending again.
func (w *sendWindow) resend(connID, i int) Message {
	m := w.at(i)
	w.sends++
	m.stamp, m.passed = w.sends, 0
	return Message{
		Type: MsgData, ConnID: connID, SeqNum: w.base + i,
		Size: len(m.payload), Payload: m.payload, Checksum: m.checksum,
	}
}

// ack marks message seq acked and reports whether it was sent and not acked before. Messages
// still unacked that were sent before it and have now been overtaken by fastResend acks are
// resent: appended to out.
func (w *sendWindow) ack(connID, seq int, out []Message) ([]Message, bool) {
	i := seq - w.base
	if i < 0 || i >= w.nsent || w.at(i).acked {
		return out, false
	}
	acked := w.at(i)
	acked.acked = true
	w.unacked--
	for j := range w.nsent {
		if m := w.at(j); !m.acked && m.stamp < acked.stamp {
			if m.passed++; m.passed == fastResend {
				out = append(out, w.resend(connID, j))
			}
		}
	}
	w.advance()
	return out, true
}

// cack marks every sent message up to seq acked and reports how many were newly acked.
func (w *sendWindow) cack(seq int) int {
	n := 0
	for i := 0; i < w.nsent && w.base+i <= seq; i++ {
		if m := w.at(i); !m.acked {
			m.acked = true
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
	for n < w.nsent && w.at(n).acked {
		n++
	}
	if n == 0 {
		return
	}
	clear(w.q[w.head : w.head+n]) // let the payloads be collected
	w.head += n
	w.base += n
	w.nsent -= n
	switch {
	case w.head == len(w.q):
		w.q, w.head = w.q[:0], 0
	case w.head >= 64 && 2*w.head >= len(w.q):
		// Mostly dead space in front: move the live messages down, in amortized O(1).
		live := copy(w.q, w.q[w.head:])
		clear(w.q[live:])
		w.q, w.head = w.q[:live], 0
	}
}

// recvWindow puts incoming messages back in order and suppresses duplicates.
type recvWindow struct {
	first    int            // sequence number of the peer's first message; nothing before it exists
	next     int            // sequence number of the next message to deliver
	maxAhead int            // messages at or past next+maxAhead are refused, unacked
	early    map[int][]byte // received messages waiting for a gap before them to fill
}

// reorderLimit bounds how far ahead of the next expected message a receiver buffers, so that
// a peer (or a corrupted sequence number) cannot make it hold unbounded memory. A sender that
// runs further ahead than this simply has those messages resent later.
const reorderLimit = 1 << 12

func newRecvWindow(firstSeq int, p Params) recvWindow {
	return recvWindow{first: firstSeq, next: firstSeq, maxAhead: max(p.WindowSize, reorderLimit)}
}

// recvResult says what became of a received data message.
type recvResult int

const (
	recvDelivered  recvResult = iota // delivered in order, possibly with buffered successors
	recvBuffered                     // held until the gap before it fills
	recvDuplicate                    // already received; ack it again, deliver nothing
	recvOutOfRange                   // before the first message or beyond the reorder limit; dropped unacked
)

// receive accepts message seq and appends the payloads now deliverable in order to out.
func (r *recvWindow) receive(seq int, payload []byte, out [][]byte) ([][]byte, recvResult) {
	switch {
	case seq < r.first || seq-r.next >= r.maxAhead:
		return out, recvOutOfRange
	case seq < r.next:
		return out, recvDuplicate
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
