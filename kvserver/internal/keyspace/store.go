package keyspace

// New returns an empty Store.
func New() *Store { return &Store{keys: make(map[string]*Entry)} }

// Store keeps each key's value as an Entry of one Redis type, in memory. Its list methods
// (those of kvserver.ListStore) see a string as a list of one value, and other types as no
// values. Put, Prepend and Update copy the values they are given; Get returns a fresh slice,
// Range may return a view of the store's own, which the caller must not modify nor keep past
// the next mutation. A Store is not safe for concurrent use.
type Store struct {
	keys map[string]*Entry
}

// List holds values in order: front reversed (the most recent Prepend last), then back.
type List struct {
	front [][]byte
	back  [][]byte
}

// Len returns the number of values.
func (l *List) Len() int { return len(l.front) + len(l.back) }

// At returns the i-th value, 0 <= i < l.Len().
func (l *List) At(i int) []byte {
	if i < len(l.front) {
		return l.front[len(l.front)-1-i]
	}
	return l.back[i-len(l.front)]
}

// PopFront removes and returns the first value of a non-empty list.
func (l *List) PopFront() []byte {
	if n := len(l.front); n > 0 {
		v := l.front[n-1]
		l.front[n-1] = nil
		l.front = l.front[:n-1]
		return v
	}
	v := l.back[0]
	l.back[0] = nil
	l.back = l.back[1:]
	return v
}

// PopBack removes and returns the last value of a non-empty list.
func (l *List) PopBack() []byte {
	if n := len(l.back); n > 0 {
		v := l.back[n-1]
		l.back[n-1] = nil
		l.back = l.back[:n-1]
		return v
	}
	v := l.front[0]
	l.front[0] = nil
	l.front = l.front[1:]
	return v
}

// listFor returns key's list, making the key a list if it is missing or of another type.
func (m *Store) listFor(key string) *List {
	e := m.keys[key]
	if e == nil || (e.Kind != KindList && e.Kind != KindString) {
		e = &Entry{Kind: KindList}
		m.keys[key] = e
	}
	e.Kind = KindList
	return &e.List
}

// listOf returns key's list (a string is a list of one value), or nil.
func (m *Store) listOf(key string) *List {
	if e := m.keys[key]; e != nil && (e.Kind == KindList || e.Kind == KindString) {
		return &e.List
	}
	return nil
}

func (m *Store) Put(key string, value []byte) {
	l := m.listFor(key)
	l.back = append(l.back, Clone(value))
}

func (m *Store) Prepend(key string, value []byte) {
	l := m.listFor(key)
	l.front = append(l.front, Clone(value))
}

func (m *Store) Get(key string) [][]byte {
	l := m.listOf(key)
	if l == nil || l.Len() == 0 {
		return nil
	}
	out := make([][]byte, 0, l.Len())
	for i := range l.Len() {
		out = append(out, l.At(i))
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
	if f := len(l.front); lo >= f {
		return l.back[lo-f : hi-f : hi-f]
	}
	out := make([][]byte, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, l.At(i))
	}
	return out
}

func (m *Store) Len(key string) int {
	if l := m.listOf(key); l != nil {
		return l.Len()
	}
	return 0
}

func (m *Store) Delete(key string) { delete(m.keys, key) }

func (m *Store) Update(key string, oldValue, newValue []byte) {
	l := m.listOf(key)
	if l == nil {
		return
	}
	var replacement []byte // one copy shared by every replaced slot: values are never modified in place
	for _, vals := range [][][]byte{l.front, l.back} {
		for i, v := range vals {
			if string(v) == string(oldValue) {
				if replacement == nil {
					replacement = Clone(newValue)
				}
				vals[i] = replacement
			}
		}
	}
}

func (m *Store) Keys() int { return len(m.keys) }

func (m *Store) Clear() { clear(m.keys) }

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
	return s, nil
}
