package actor

import "sync"

// NewChannelRef returns a one-shot address for code outside any actor, and the channel its
// message arrives on: the first message told to ref is delivered on the channel, later ones
// are dropped and reported (ErrChannelRefUsed). The channel is closed if the system closes
// first, so a waiter always has a way out. Pair it with a timeout: a ref nobody answers stays
// registered until the system closes.
func (s *ActorSystem) NewChannelRef() (*ActorRef, <-chan any) {
	ref := &ActorRef{Address: s.addr, Counter: -int(s.nextChannel.Add(1))}
	r := &channelRef{ch: make(chan any, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(r.ch)
		return ref, r.ch
	}
	s.chanRefs[r] = struct{}{}
	s.targets.Store(ref.Counter, r)
	return ref, r.ch
}

// channelRef is the receiving end of a channel ref.
type channelRef struct {
	mu   sync.Mutex
	ch   chan any // capacity 1: deliver never blocks
	done bool     // got its message or was closed
}

// deliver passes msg on if it is the first, calling used just before, so whoever receives it
// sees the ref counted; false means the ref was already used or closed.
func (r *channelRef) deliver(msg any, used func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return false
	}
	r.done = true
	used()
	r.ch <- msg
	return true
}

func (r *channelRef) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.done {
		r.done = true
		close(r.ch)
	}
}
