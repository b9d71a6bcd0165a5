package lsp

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"time"

	"ds440/lsp/lspnet"
)

// An endpoint whose socket is pollable (lspnet's UDPConn on an operating-system socket, on
// Linux) has no reader goroutine: its loop reads the socket itself. While it has work it
// takes what the socket holds without waiting (ReadBatchNow); with none it waits in the
// socket's read (ReadBatch), which the runtime's poller ends when a datagram arrives, at the
// read deadline (the next epoch tick), or when an API call sets the deadline to the past. A
// datagram then costs no hand-off between goroutines: the goroutine the poller wakes is the
// one that owns the protocol state, as a TCP reader is.
//
// API calls still reach the loop on channels. To wake a waiting loop without a system call
// per call, the loop puts a token in a channel just before it waits and takes it back when it
// stops; a call that finds the token takes it and sets the deadline. The loop looks at its
// channels once more after putting the token, so a call either is seen there or finds the
// token: no wake-up is lost. An endpoint on any other lspnet keeps the reader goroutine.

// pollConn is the part of lspnet's UDPConn an owned socket needs beyond the contract.
type pollConn interface {
	ReadBatch(bufs [][]byte, ns []int, addrs []*lspnet.UDPAddr) (int, error)
	ReadBatchNow(bufs [][]byte, ns []int, addrs []*lspnet.UDPAddr) (int, error)
	SetReadDeadline(t time.Time) error
	Pollable() bool
}

// ownedSocket is an endpoint loop's read side of a socket it owns, and the tokens by which
// API calls wake it. Only wake and wakeReader are called from other goroutines.
type ownedSocket struct {
	pc       pollConn
	log      *slog.Logger
	withAddr bool
	bufs     [][]byte
	ns       []int
	addrs    []*lspnet.UDPAddr
	pk       packets   // the last read, decoded; the loop handles it before reading again
	deadline time.Time // the read deadline set; zero when not known

	// waiting holds a token while the loop waits on the socket (or is about to): an API call
	// that takes it ends the wait. backlogWaiting is the same for a Read that empties the Read
	// channel, armed only while more payloads wait in the loop for room in it.
	waiting        chan struct{}
	backlogWaiting chan struct{}
}

// ownSocket returns the owned read side of udp, or nil if udp is not pollable: the endpoint
// then uses a reader goroutine.
func ownSocket(udp *lspnet.UDPConn, log *slog.Logger, withAddr bool) *ownedSocket {
	pc, ok := any(udp).(pollConn)
	if !ok || !pc.Pollable() {
		return nil
	}
	if g, ok := any(udp).(groConn); ok {
		g.EnableGRO() // read with ReadBatch only, by this one goroutine
	}
	o := &ownedSocket{
		pc: pc, log: log, withAddr: withAddr,
		bufs: make([][]byte, readBatch), ns: make([]int, readBatch), addrs: make([]*lspnet.UDPAddr, readBatch),
		waiting: make(chan struct{}, 1), backlogWaiting: make(chan struct{}, 1),
	}
	for i := range o.bufs {
		o.bufs[i] = make([]byte, MaxDatagram)
	}
	return o
}

// errSocketClosed is what read reports once the socket is closed under the loop.
var errSocketClosed = errors.New("lsp: socket closed")

// read takes what the socket holds, waiting for it if wait (see arm), and returns the decoded
// datagrams (nil if none). A datagram that does not decode is dropped here. It returns
// errSocketClosed if the socket was closed.
func (o *ownedSocket) read(wait bool) ([]packet, error) {
	var n int
	var err error
	if wait {
		n, err = o.pc.ReadBatch(o.bufs, o.ns, o.addrs)
	} else {
		n, err = o.pc.ReadBatchNow(o.bufs, o.ns, o.addrs)
	}
	if err != nil {
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			o.deadline = time.Time{} // the tick's, or an API call's in the past
		case errors.Is(err, net.ErrClosed):
			return nil, errSocketClosed
		default:
			// A connected UDP socket reports an ICMP "port unreachable" for an earlier
			// write as a read error; the protocol's own timeouts deal with that.
			o.log.Debug("lsp: socket read", "err", err)
		}
		return nil, nil
	}
	o.pk.pkts = o.pk.pkts[:0]
	for i := range n {
		m := &o.pk.msgs[len(o.pk.pkts)]
		if m.Type == MsgData {
			m.Payload = nil // a delivered payload's storage belongs to its reader now
		}
		if err := Unmarshal(o.bufs[i][:o.ns[i]], m); err != nil {
			o.log.Debug("lsp: dropped datagram", "err", err)
			continue
		}
		var from *lspnet.UDPAddr
		if o.withAddr {
			from = o.addrs[i]
		}
		o.pk.pkts = append(o.pk.pkts, packet{msg: m, addr: from})
	}
	return o.pk.pkts, nil
}

// arm prepares a wait that ends at deadline at the latest, and puts the wake tokens: the
// backlog one only if payloads wait in the loop for room in the Read channel. The deadline is
// set first, so that an API call's deadline in the past, set after it takes a token, is not
// overwritten.
func (o *ownedSocket) arm(deadline time.Time, backlog bool) {
	if !o.deadline.Equal(deadline) {
		o.pc.SetReadDeadline(deadline)
		o.deadline = deadline
	}
	o.waiting <- struct{}{}
	if backlog {
		o.backlogWaiting <- struct{}{}
	}
}

// disarm takes back whatever tokens are left once the loop stops waiting. A token an API
// call took means its deadline may still land: the next wait sets the deadline again.
func (o *ownedSocket) disarm(backlog bool) {
	select {
	case <-o.waiting:
	default:
		o.deadline = time.Time{}
	}
	if backlog {
		select {
		case <-o.backlogWaiting:
		default:
			o.deadline = time.Time{}
		}
	}
}

// wake ends the loop's wait if it is waiting; an API call makes it after queuing its request.
func (o *ownedSocket) wake() { o.kick(o.waiting) }

// wakeReader is wake for a Read that emptied the Read channel.
func (o *ownedSocket) wakeReader() { o.kick(o.backlogWaiting) }

// aLongTimeAgo is a read deadline in the past: setting it ends a wait at once.
var aLongTimeAgo = time.Unix(1, 0)

func (o *ownedSocket) kick(token chan struct{}) {
	select {
	case <-token:
		o.pc.SetReadDeadline(aLongTimeAgo)
	default:
	}
}
