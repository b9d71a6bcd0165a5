package lsp

import (
	"errors"
	"log/slog"
	"net"

	"ds440/lsp/lspnet"
)

// socketBuffer is the send and receive buffer size LSP asks for. A server with many clients
// each keeping a full window in flight receives bursts far beyond the system default
// (about 200 KB), and every datagram the kernel drops for lack of room costs an epoch. The
// kernel caps the request at its configured maximum.
const socketBuffer = 4 << 20

// growBuffers enlarges udp's socket buffers when the lspnet in use can (the contract does not
// require it, so it is optional), logging rather than failing if the system refuses.
func growBuffers(udp *lspnet.UDPConn, log *slog.Logger) {
	if b, ok := any(udp).(interface{ SetReadBuffer(int) error }); ok {
		if err := b.SetReadBuffer(socketBuffer); err != nil {
			log.Debug("lsp: socket read buffer", "err", err)
		}
	}
	if b, ok := any(udp).(interface{ SetWriteBuffer(int) error }); ok {
		if err := b.SetWriteBuffer(socketBuffer); err != nil {
			log.Debug("lsp: socket write buffer", "err", err)
		}
	}
}

// packet is one decoded datagram and where it came from (nil on a client's connected socket).
type packet struct {
	msg  *Message
	addr *lspnet.UDPAddr
}

// packets is what one read of the socket brought, decoded: the reader hands it to the loop
// in one channel operation, and the loop hands it back for reuse, so that acks and heartbeats
// cost no allocation and a busy socket few hand-offs.
type packets struct {
	pkts []packet // pkts[i].msg points into msgs
	msgs [readBatch]Message
}

// recycled is how many packets an endpoint keeps for reuse; as many may wait for its loop.
const recycled = 16

// batchConn is the batched datagram I/O a socket may offer beside the contract's surface.
// lspnet's UDPConn has it (recvmmsg and sendmmsg on Linux); an lspnet without it, such as a
// course's instrumented one, gets the one-datagram-per-call path.
type batchConn interface {
	ReadBatch(bufs [][]byte, ns []int, addrs []*lspnet.UDPAddr) (int, error)
	WriteBatch(bufs [][]byte, addrs []*lspnet.UDPAddr) (int, error)
}

// groConn is a socket that can take runs of datagrams joined (UDP GRO) and hand them to
// ReadBatch cut apart again; lspnet's UDPConn can on Linux. Every endpoint asks for it, even
// at window 1: a data message and the ack leaving with it are one run (see writer.send), which
// the kernel then queues whole instead of cutting it apart first.
type groConn interface {
	EnableGRO() bool
}

// readBatch is how many datagrams the reader asks for per system call. Each buffer can hold
// the largest datagram; the memory is only touched as datagrams arrive.
const readBatch = 16

// readPackets is the one goroutine per endpoint that blocks on the socket, with GRO on if the
// socket has it. It decodes each datagram into a recycled Message (decoding here, off
// the event loop, uses the second core) and hands it over; garbage is dropped at once. It
// returns when stop is closed, which the loop does just before closing the socket.
func readPackets(udp *lspnet.UDPConn, log *slog.Logger, withAddr bool, out chan<- *packets, free <-chan *packets, stop <-chan struct{}) {
	bc, batched := any(udp).(batchConn)
	n := 1
	if batched {
		n = readBatch
		// Runs of datagrams joined by the kernel, which ReadBatch cuts apart: only this
		// goroutine reads the socket, and only with ReadBatch, as GRO requires.
		if g, ok := any(udp).(groConn); ok {
			g.EnableGRO()
		}
	}
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, MaxDatagram)
	}
	ns, addrs := make([]int, n), make([]*lspnet.UDPAddr, n)
	var b *packets // kept across a read with nothing valid in it
	for {
		var err error
		if batched {
			n, err = bc.ReadBatch(bufs, ns, addrs)
		} else if withAddr {
			n = 1
			ns[0], addrs[0], err = udp.ReadFromUDP(bufs[0])
		} else {
			n = 1
			ns[0], err = udp.Read(bufs[0])
		}
		if err != nil {
			select {
			case <-stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				// Closed under us: stop rather than spin. With nothing more heard, the
				// loop declares the connection lost after EpochLimit epochs.
				log.Debug("lsp: socket closed", "err", err)
				return
			}
			// A connected UDP socket reports an ICMP "port unreachable" for an earlier
			// write as a read error; the protocol's own timeouts deal with that.
			log.Debug("lsp: socket read", "err", err)
			continue
		}
		if b == nil {
			select {
			case b = <-free:
			default:
				b = new(packets)
			}
		}
		b.pkts = b.pkts[:0]
		for i := range n {
			m := &b.msgs[len(b.pkts)]
			if err := Unmarshal(bufs[i][:ns[i]], m); err != nil {
				log.Debug("lsp: dropped datagram", "err", err)
				continue
			}
			var from *lspnet.UDPAddr
			if withAddr {
				from = addrs[i]
			}
			b.pkts = append(b.pkts, packet{msg: m, addr: from})
		}
		if len(b.pkts) == 0 {
			continue // garbage only
		}
		select {
		case out <- b:
			b = nil
		case <-stop:
			return
		}
	}
}

// writer encodes an endpoint's datagrams into reused buffers and sends them, all of one event
// in one batch when the socket offers batched I/O. Only the endpoint's loop uses it.
type writer struct {
	udp   *lspnet.UDPConn
	batch batchConn // nil: one system call per datagram
	log   *slog.Logger
	bufs  [][]byte
	addrs []*lspnet.UDPAddr
}

func newWriter(udp *lspnet.UDPConn, log *slog.Logger) *writer {
	w := &writer{udp: udp, log: log, bufs: make([][]byte, 1)}
	w.batch, _ = any(udp).(batchConn)
	return w
}

// send writes msgs to the dialed peer (to == nil) or to to. A failed write is the same as a
// lost datagram, which the protocol recovers from, so it is only logged.
func (w *writer) send(msgs []Message, to *lspnet.UDPAddr) {
	if len(msgs) == 0 {
		return
	}
	if w.batch == nil || len(msgs) == 1 {
		for i := range msgs {
			w.bufs[0] = msgs[i].AppendMarshal(w.bufs[0][:0])
			var err error
			if to == nil {
				_, err = w.udp.Write(w.bufs[0])
			} else {
				_, err = w.udp.WriteToUDP(w.bufs[0], to)
			}
			if err != nil {
				w.log.Debug("lsp: socket write", "to", to, "err", err)
			}
		}
		return
	}
	for len(w.bufs) < len(msgs) {
		w.bufs = append(w.bufs, nil)
	}
	// Data first, then the rest (acks, mostly), each in the order given: a run of datagrams
	// of one size with at most one shorter at its end leaves as one segmented (GSO) message,
	// so a data message and the ack sent with it cost the kernel one pass, not two.
	k := 0
	for pass := range 2 {
		for i := range msgs {
			if (msgs[i].Type == MsgData) == (pass == 0) {
				w.bufs[k] = msgs[i].AppendMarshal(w.bufs[k][:0])
				k++
			}
		}
	}
	var addrs []*lspnet.UDPAddr
	if to != nil {
		for len(w.addrs) < len(msgs) {
			w.addrs = append(w.addrs, nil)
		}
		for i := range msgs {
			w.addrs[i] = to
		}
		addrs = w.addrs[:len(msgs)]
	}
	if _, err := w.batch.WriteBatch(w.bufs[:len(msgs)], addrs); err != nil {
		w.log.Debug("lsp: socket write", "to", to, "err", err)
	}
}

// recycle offers handled packets back to the reader. A data message's payload may now be held
// by the connection (buffered or delivered), so its storage is never reused.
func recycle(free chan<- *packets, b *packets) {
	for _, p := range b.pkts {
		if p.msg.Type == MsgData {
			p.msg.Payload = nil
		}
	}
	select {
	case free <- b:
	default:
	}
}
