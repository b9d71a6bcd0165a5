package actor

import "sync"

// Mailbox is an unbounded FIFO queue. Push never blocks, so a sender is never held up by a
// slow receiver; the price is memory, which is the receiver's problem to keep bounded (actors
// do so by keeping up). It is safe for concurrent use; the zero value is an empty open mailbox.
type Mailbox struct {
	mu       sync.Mutex
	nonEmpty sync.Cond
	items    []any // items[head:] are queued, oldest first
	head     int
	waiting  int // Pops blocked on nonEmpty, so Push signals only when someone listens
	closed   bool
}

// NewMailbox returns an empty, open mailbox.
func NewMailbox() *Mailbox {
	return &Mailbox{}
}

// Push appends message to the queue. It never blocks; after Close it does nothing.
func (m *Mailbox) Push(message any) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	if m.head > 0 && len(m.items) == cap(m.items) && m.head >= len(m.items)/2 {
		// Reuse the consumed front instead of growing: at most half the slice is copied,
		// and only when it is full, so Push stays amortised O(1).
		n := copy(m.items, m.items[m.head:])
		clear(m.items[n:])
		m.items = m.items[:n]
		m.head = 0
	}
	m.items = append(m.items, message)
	wake := m.waiting > 0
	m.mu.Unlock()
	if wake {
		m.nonEmpty.Signal()
	}
}

// Pop removes and returns the oldest message, blocking until there is one. Once the mailbox is
// closed it returns (nil, false), also if messages were still queued.
func (m *Mailbox) Pop() (any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.waitNonEmpty() {
		return nil, false
	}
	msg := m.items[m.head]
	m.items[m.head] = nil
	m.head++
	if m.head == len(m.items) {
		m.items = m.items[:0]
		m.head = 0
	}
	return msg, true
}

// Len returns the number of queued messages.
func (m *Mailbox) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items) - m.head
}

// Close wakes every blocked Pop and makes later Pops return (nil, false) and Pushes no-ops.
// Queued messages are dropped. Close is idempotent.
func (m *Mailbox) Close() {
	m.mu.Lock()
	m.closed = true
	clear(m.items)
	m.items, m.head = nil, 0
	m.mu.Unlock()
	m.nonEmpty.Broadcast()
}

// popAll blocks like Pop, then hands over every queued message at once, taking spare (emptied
// by the caller) as the new queue storage. An actor drains its mailbox this way: one lock per
// burst instead of one per message.
func (m *Mailbox) popAll(spare []any) ([]any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.waitNonEmpty() {
		return nil, false
	}
	batch := m.items[m.head:]
	m.items, m.head = spare[:0], 0
	return batch, true
}

// waitNonEmpty waits, with mu held, until a message is queued (true) or the mailbox is closed.
func (m *Mailbox) waitNonEmpty() bool {
	for m.head == len(m.items) && !m.closed {
		if m.nonEmpty.L == nil { // set once, under mu, before any Wait (Signal ignores L)
			m.nonEmpty.L = &m.mu
		}
		m.waiting++
		m.nonEmpty.Wait()
		m.waiting--
	}
	return !m.closed
}
