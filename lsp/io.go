package lsp

import (
	"log/slog"
	"sync/atomic"

	"ds440/lsp/lspnet"
)

// logger receives the package's log records; it discards them unless SetLogger is called.
var logger atomic.Pointer[slog.Logger]

func init() { logger.Store(slog.New(slog.DiscardHandler)) }

// SetLogger sends the package's log records (connections opened and lost, socket errors) to l.
// A nil l silences them again.
func SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	logger.Store(l)
}

func log() *slog.Logger { return logger.Load() }

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
func readPackets(udp *lspnet.UDPConn, withAddr bool, packets chan<- packet, free <-chan *Message, stop <-chan struct{}) {
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
				// A connected UDP socket reports an ICMP "port unreachable" for an earlier
				// write as a read error; the protocol's own timeouts deal with that.
				log().Debug("lsp: socket read", "err", err)
				continue
			}
		}
		if m == nil {
			select {
			case m = <-free:
			default:
				m = new(Message)
			}
		}
		if err := Unmarshal(buf[:n], m); err != nil {
			log().Debug("lsp: dropped datagram", "err", err)
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
