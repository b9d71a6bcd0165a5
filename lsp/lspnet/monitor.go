package lspnet

import (
	"fmt"
	"math"
)

// Limits are the sending rules a Monitor holds every sender to: the Params of the
// connections it watches.
type Limits struct {
	WindowSize         int // a new data message s needs s < oldest unacked + WindowSize
	MaxUnackedMessages int // at most this many data messages sent and not acked
}

// Report is what a Monitor saw.
type Report struct {
	Flows       int      // senders seen: one per connection and direction that carried data
	Sent        int      // data messages sent for the first time
	Resent      int      // data messages sent again
	MaxInFlight int      // the most data messages one sender had unacked at once
	Violations  []string // the first few sends that broke the Limits
}

// maxViolations bounds Report.Violations; one is enough to fail a test.
const maxViolations = 10

// Monitor checks, from the datagrams on the wire, that no sender ever has more data in flight
// than its window and unacked cap allow. It keeps per sender the data messages written and
// not yet seen acked. An ack counts when the sender's socket reads it, which is before the
// sender itself can act on it, so the Monitor's count never exceeds the sender's own and
// every violation it reports is real.
//
// A Monitor owns the process's tap while it runs; the tap hands each datagram to the
// Monitor's goroutine, in order, through a channel.
type Monitor struct {
	lim     Limits
	frames  chan tapped
	stop    chan struct{}
	done    chan Report
	restore func()
}

type tapped struct {
	d Datagram
	f Frame
}

// flowKey names one sender of one connection: its socket, its peer and the connection id.
type flowKey struct {
	local, remote string
	connID        int
}

type flow struct {
	cum      int          // every seq <= cum is acked (from CAcks)
	acked    map[int]bool // seqs above cum acked one by one
	inflight map[int]bool // seqs sent and not acked
}

func (f *flow) isAcked(seq int) bool { return seq <= f.cum || f.acked[seq] }

// Watch starts a Monitor holding senders to lim and installs its tap. Call Stop to remove
// the tap and get the report.
func Watch(lim Limits) *Monitor { return watch(defaultFaults, lim) }

func watch(fs *Faults, lim Limits) *Monitor {
	m := &Monitor{lim: lim, frames: make(chan tapped, 1024), stop: make(chan struct{}), done: make(chan Report, 1)}
	go m.run()
	m.restore = fs.SetTap(func(d Datagram) {
		if d.Dropped && d.Op == Read {
			return // the sender never saw it
		}
		f, err := ParseHeader(d.Data)
		if err != nil {
			return
		}
		d.Data = nil // valid only during the call; the frame holds what is needed
		select {
		case m.frames <- tapped{d: d, f: f}:
		case <-m.stop:
		}
	})
	return m
}

// Stop removes the Monitor's tap and returns what it saw. Datagrams written or read while
// Stop runs may be left out.
func (m *Monitor) Stop() Report {
	m.restore()
	close(m.stop) // a tap call that loaded the tap just before the restore gives up
	return <-m.done
}

func (m *Monitor) run() {
	var r Report
	flows := make(map[flowKey]*flow)
	get := func(k flowKey) *flow {
		f := flows[k]
		if f == nil {
			f = &flow{cum: -min(1<<62, math.MaxInt), acked: make(map[int]bool), inflight: make(map[int]bool)}
			flows[k] = f
		}
		return f
	}
	for {
		var t tapped
		select {
		case t = <-m.frames:
		case <-m.stop:
			select {
			case t = <-m.frames: // still queued before the stop
			default:
				r.Flows = len(flows)
				m.done <- r
				return
			}
		}
		k := flowKey{t.d.Local, t.d.Remote, t.f.ConnID}
		switch {
		case t.d.Op == Write && t.f.Type == TypeData:
			f := get(k)
			seq := t.f.SeqNum
			if f.inflight[seq] || f.isAcked(seq) {
				r.Resent++ // an acked one is a resend racing with the ack
				continue
			}
			f.inflight[seq] = true
			r.Sent++
			oldest := seq
			for s := range f.inflight {
				oldest = min(oldest, s)
			}
			n := len(f.inflight)
			r.MaxInFlight = max(r.MaxInFlight, n)
			var broke string
			switch {
			case m.lim.MaxUnackedMessages > 0 && n > m.lim.MaxUnackedMessages:
				broke = fmt.Sprintf("%s %s->%s conn %d sent seq %d with %d unacked (cap %d)",
					t.d.Side, k.local, k.remote, k.connID, seq, n, m.lim.MaxUnackedMessages)
			case m.lim.WindowSize > 0 && seq >= oldest+m.lim.WindowSize:
				broke = fmt.Sprintf("%s %s->%s conn %d sent seq %d with oldest unacked %d (window %d)",
					t.d.Side, k.local, k.remote, k.connID, seq, oldest, m.lim.WindowSize)
			}
			if broke != "" && len(r.Violations) < maxViolations {
				r.Violations = append(r.Violations, broke)
			}
		case t.d.Op == Read && t.f.Type == TypeAck && t.f.SeqNum != 0:
			f := flows[k]
			if f == nil {
				continue
			}
			f.acked[t.f.SeqNum] = true
			delete(f.inflight, t.f.SeqNum)
		case t.d.Op == Read && t.f.Type == TypeCAck:
			f := flows[k]
			if f == nil || t.f.SeqNum <= f.cum {
				continue
			}
			f.cum = t.f.SeqNum
			for s := range f.inflight {
				if s <= f.cum {
					delete(f.inflight, s)
				}
			}
			for s := range f.acked {
				if s <= f.cum {
					delete(f.acked, s)
				}
			}
		}
	}
}
