package keyspace

import "strings"

// New returns an empty Store.
func New() *Store { return &Store{keys: make(map[string]*Entry)} }

// Store keeps each key's value as an Entry of one Redis type, in memory. Its list methods
// (those of kvserver.ListStore) see a string as a list of one value, and other types as no
// values. Put, Prepend and Update copy the values they are given; Get returns copies, Range
// views of the store's own values, which the caller must not modify nor keep past the next
// mutation. Keys are copied too when the store keeps them, so a Record's key may be a view of
// a buffer the caller reuses. A Store is not safe for concurrent use.
type Store struct {
	keys map[string]*Entry
	peak int    // the most keys keys has held: a Go map keeps the room of its deleted keys
	hot  *Entry // the entry last found or inserted, if it is still in keys; see find
}

// find returns key's entry, nil if it is missing. A command looks its key up and then changes
// it through a Record, which finds the key again: the entry last found is kept aside (hot) and
// compared first, by its key, which the lookup has just brought into the cache, so that the
// second search of the map, with its hashing and the cache misses of a large one, is skipped.
func (m *Store) find(key string) *Entry {
	if h := m.hot; h != nil && h.key == key {
		return h
	}
	e := m.keys[key]
	if e != nil {
		m.hot = e
	}
	return e
}

// remove deletes key and forgets the hot entry, which may be key's.
func (m *Store) remove(key string) {
	delete(m.keys, key)
	m.hot = nil
}

// listFor returns key's list, making the key a list if it is missing or of another type.
func (m *Store) listFor(key string) *List {
	e := m.find(key)
	if e == nil || (e.Kind != KindList && e.Kind != KindString) {
		e = &Entry{Kind: KindList}
		m.insert(key, e)
	}
	e.Kind = KindList
	return &e.List
}

// listOf returns key's list (a string is a list of one value), or nil.
func (m *Store) listOf(key string) *List {
	if e := m.find(key); e != nil && (e.Kind == KindList || e.Kind == KindString) {
		return &e.List
	}
	return nil
}

// insert makes e key's entry. The key is copied: a Record's key may be a view of a request.
func (m *Store) insert(key string, e *Entry) {
	e.key = strings.Clone(key)
	m.keys[e.key] = e
	m.hot = e
	m.peak = max(m.peak, len(m.keys))
}

func (m *Store) Put(key string, value []byte) { m.listFor(key).PushBack(value) }

func (m *Store) Prepend(key string, value []byte) { m.listFor(key).PushFront(value) }

func (m *Store) Get(key string) [][]byte {
	l := m.listOf(key)
	if l == nil || l.Len() == 0 {
		return nil
	}
	out := make([][]byte, 0, l.Len())
	for v := range l.Values(0, l.Len()) {
		out = append(out, Clone(v))
	}
	return out
}

func (m *Store) Range(key string, start, stop int) [][]byte {
	l := m.listOf(key)
	if l == nil {
		return nil
	}
	lo, hi, ok := ClampRange(l.Len(), start, stop)
	if !ok {
		return nil
	}
	out := make([][]byte, 0, hi-lo)
	for v := range l.Values(lo, hi) {
		out = append(out, v)
	}
	return out
}

func (m *Store) Len(key string) int {
	if l := m.listOf(key); l != nil {
		return l.Len()
	}
	return 0
}

func (m *Store) Delete(key string) { m.remove(key) }

func (m *Store) Update(key string, oldValue, newValue []byte) {
	if l := m.listOf(key); l != nil {
		l.Replace(oldValue, newValue)
	}
}

func (m *Store) Keys() int { return len(m.keys) }

// Clear removes every key. It drops the map rather than emptying it, which would keep the room
// of every key the store ever held.
func (m *Store) Clear() { m.keys, m.peak, m.hot = make(map[string]*Entry), 0, nil }

// Clone copies b into a slice of its own; a nil or empty b becomes an empty, non-nil slice so
// that a stored empty value is still a value.
func Clone(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

// ClampRange turns Redis-style inclusive indexes (negative ones count from the end) over a list
// of n values into the half-open range [lo, hi). ok is false when the range is empty.
func ClampRange(n, start, stop int) (lo, hi int, ok bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if stop >= n {
		stop = n - 1
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	return start, stop + 1, true
}

// Replay applies the payloads records yields, in order, to a new Store. It stops at the first
// error records yields or the first payload that is not a Record (ErrBadRecord).
//
// A Go map never gives back the room of deleted keys, so a log whose keys mostly died (created
// by the million, then deleted) would leave the replayed store the size of its history. When
// the store ends with fewer than half the keys it once held, Replay moves them to a map of
// their own size: one pass over the live keys, paid only by such a log, so that the store's
// memory follows its live data.
func Replay(records func(func([]byte, error) bool)) (*Store, error) {
	s := New()
	for p, err := range records {
		if err != nil {
			return nil, err
		}
		r, err := DecodePayload(p)
		if err != nil {
			return nil, err
		}
		s.Apply(r)
	}
	if len(s.keys) < s.peak/2 {
		live := make(map[string]*Entry, len(s.keys))
		for k, e := range s.keys {
			live[k] = e
		}
		s.keys, s.peak = live, len(live)
	}
	return s, nil
}
