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

// recycled is how many decoded Messages an endpoint keeps for reuse, so that acks and
// heartbeats cost no allocation.
const recycled = 256

// readPackets is the one goroutine per endpoint that blocks on the socket. It decodes each
// datagram into a recycled Message (decoding here, off the event loop, uses the second core)
// and hands it over; garbage is dropped at once. It returns when stop is closed, which the loop
// does just before closing the socket.
func readPackets(udp *lspnet.UDPConn, log *slog.Logger, withAddr bool, packets chan<- packet, free <-chan *Message, stop <-chan struct{}) {
	buf := make([]byte, MaxDatagram)
	var m *Message // kept across a dropped datagram
	for {
		var (
			n    int
			addr *lspnet.UDPAddr
			err  error
		)
		if withAddr {
			n, addr, err = udp.ReadFromUDP(buf)
		} else {
			n, err = udp.Read(buf)
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
		if m == nil {
			select {
			case m = <-free:
			default:
				m = new(Message)
			}
		}
		if err := Unmarshal(buf[:n], m); err != nil {
			log.Debug("lsp: dropped datagram", "err", err)
			continue
		}
		select {
		case packets <- packet{msg: m, addr: addr}:
			m = nil
		case <-stop:
			return
		}
	}
}

// recycle offers a handled Message back to the reader. A data message's payload may now be
// held by the connection (buffered or delivered), so its storage is never reused.
func recycle(free chan<- *Message, m *Message) {
	if m.Type == MsgData {
		m.Payload = nil
	}
	select {
	case free <- m:
	default:
	}
}
