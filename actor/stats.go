package actor

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts a system's traffic, for tests and monitoring. Counters saturate at MaxInt32
// instead of wrapping.
type Stats struct {
	// MessagesSent counts messages told by this system (MessagesSentExternal plus
	// MessagesSentActor), local and remote, counted when Tell or TellAfter is called with a
	// message that could be encoded.
	MessagesSent int32
	// MessagesSentExternal counts messages told from outside any actor (ActorSystem.Tell and
	// ActorSystem.TellAfter).
	MessagesSentExternal int32
	// MessagesSentActor counts messages told by actors (ActorContext.Tell and TellAfter).
	MessagesSentActor int32
	// BytesSent is the encoded size of every message counted in MessagesSent: the bytes of
	// its value in gob, without the type description a stream sends once.
	BytesSent int32
	// RemoteBytesReceived is the encoded size, measured the same way, of every message that
	// arrived from another system.
	RemoteBytesReceived int32
	// ChannelRefsUsed counts channel refs that received their one message.
	ChannelRefsUsed int32
	// MaxMessageRate is the maximum over (sender actor, target) pairs of the sends from that
	// actor to that target divided by floor(seconds since the sender started + 1.1): the sends
	// per second of the sender's life, where a first second in progress counts as one.
	MaxMessageRate float64
	// MessagesUndelivered counts messages for remote systems that were dropped, or not
	// confirmed, because the remote was unreachable or the connection broke mid-call.
	MessagesUndelivered int32
}

// counters are a system's Stats counters. They are int64 so a busy system saturates at the
// int32 limit of Stats instead of wrapping.
type counters struct {
	sent, sentExternal, sentActor  atomic.Int64
	bytesSent, remoteBytesReceived atomic.Int64
	channelRefsUsed, undelivered   atomic.Int64
}

func (c *counters) countSend(fromActor bool, size int) {
	c.sent.Add(1)
	if fromActor {
		c.sentActor.Add(1)
	} else {
		c.sentExternal.Add(1)
	}
	c.bytesSent.Add(int64(size))
}

func (c *counters) snapshot() Stats {
	return Stats{
		MessagesSent:         sat32(c.sent.Load()),
		MessagesSentExternal: sat32(c.sentExternal.Load()),
		MessagesSentActor:    sat32(c.sentActor.Load()),
		BytesSent:            sat32(c.bytesSent.Load()),
		RemoteBytesReceived:  sat32(c.remoteBytesReceived.Load()),
		ChannelRefsUsed:      sat32(c.channelRefsUsed.Load()),
		MessagesUndelivered:  sat32(c.undelivered.Load()),
	}
}

func sat32(v int64) int32 {
	return int32(min(v, math.MaxInt32))
}

// sendCounts tracks one actor's sends per target, for MaxMessageRate. It is touched by the
// actor's own goroutine (and its constructor), read by Stats; the mutex is uncontended.
//
// All pairs of one sender share the denominator (the sender's age), so only the highest count
// matters. Channel refs are one-shot and a query actor answers a new one per query, so once an
// actor has told many, their entries are dropped and only the highest of their counts is kept:
// memory stays bounded, and only a channel ref told again after that restarts from zero.
type sendCounts struct {
	start    time.Time
	mu       sync.Mutex
	sends    map[ActorRef]int64
	channels int   // entries of sends that are channel refs
	folded   int64 // highest count among channel refs dropped from sends
}

// maxChannelPairs bounds the channel-ref entries an actor's sendCounts keeps.
const maxChannelPairs = 1024

func (s *sendCounts) count(target ActorRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sends == nil {
		s.sends = make(map[ActorRef]int64)
	}
	n, known := s.sends[target]
	s.sends[target] = n + 1
	if known || target.Counter >= 0 {
		return
	}
	if s.channels++; s.channels > maxChannelPairs {
		for ref, n := range s.sends {
			if ref.Counter < 0 {
				s.folded = max(s.folded, n)
				delete(s.sends, ref)
			}
		}
		s.channels = 0
	}
}

// maxRate returns this actor's highest rate to any one target at time now.
func (s *sendCounts) maxRate(now time.Time) float64 {
	s.mu.Lock()
	most := s.folded
	for _, n := range s.sends {
		most = max(most, n)
	}
	s.mu.Unlock()
	return messageRate(most, now.Sub(s.start))
}

// messageRate is sends divided by floor(alive in seconds + 1.1), the contract's definition.
func messageRate(sends int64, alive time.Duration) float64 {
	if sends == 0 {
		return 0
	}
	return float64(sends) / math.Floor(alive.Seconds()+1.1)
}
