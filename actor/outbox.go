package actor

import (
	"time"

	"ds440/actor/internal/wire"
)

// outbox is the queue of messages for one remote system, in the order they were told, each with
// the time it may leave (now, or later under an artificial latency). It is plain data: the
// remote sender goroutine locks around it and carries out what it says.
type outbox struct {
	msgs []outMsg // msgs[head:] are queued
	head int
}

type outMsg struct {
	env wire.Envelope
	due time.Time // zero: may leave at once
}

func (o *outbox) len() int { return len(o.msgs) - o.head }

func (o *outbox) push(m outMsg) {
	if o.head > 0 && len(o.msgs) == cap(o.msgs) && o.head >= len(o.msgs)/2 {
		n := copy(o.msgs, o.msgs[o.head:])
		clear(o.msgs[n:])
		o.msgs, o.head = o.msgs[:n], 0
	}
	o.msgs = append(o.msgs, m)
}

// takeDue moves to dst, oldest first, the queued messages that are due at now, stopping after
// maxCount messages or once maxBytes is reached (a batch is one RPC; big ones would hold up the
// next). If none is due, wait is how long until the oldest is; wait is 0 when the queue is
// empty. Order is kept even if a later message is due first (the latency was lowered).
func (o *outbox) takeDue(now time.Time, maxCount, maxBytes int, dst []wire.Envelope) (batch []wire.Envelope, wait time.Duration) {
	bytes := 0
	for o.head < len(o.msgs) && len(dst) < maxCount && bytes < maxBytes {
		m := &o.msgs[o.head]
		if m.due.After(now) {
			if len(dst) == 0 {
				wait = m.due.Sub(now)
			}
			break
		}
		dst = append(dst, m.env)
		bytes += int(m.env.Size)
		*m = outMsg{}
		o.head++
	}
	if o.head == len(o.msgs) {
		o.msgs, o.head = o.msgs[:0], 0
	}
	return dst, wait
}

// dropAll empties the queue and returns how many messages it held.
func (o *outbox) dropAll() int {
	n := o.len()
	clear(o.msgs)
	o.msgs, o.head = o.msgs[:0], 0
	return n
}

// backoff spaces redials of a remote system that does not answer. The first redial after a
// failure is immediate (a peer that restarted is back at once); after that the pause starts at
// min and doubles up to max. Only a call that succeeds resets it, so a peer that accepts
// connections but fails every call is backed off too.
type backoff struct {
	min, max time.Duration
	failures int // dials and calls that failed since the last call that succeeded
}

// delay returns the pause before the next dial. jitter in [0, 1) spreads a pause d over
// [d/2, d), so systems that lost the same peer do not redial in step.
func (b *backoff) delay(jitter float64) time.Duration {
	if b.failures <= 1 {
		return 0
	}
	d := b.min << min(b.failures-2, 30)
	if d > b.max || d <= 0 {
		d = b.max
	}
	return d/2 + time.Duration(jitter*float64(d/2))
}

func (b *backoff) fail()  { b.failures++ }
func (b *backoff) reset() { b.failures = 0 }
