package kvserver

// KVStore is the database behind the server. Implementations need not be safe for concurrent
// use: the server touches its store from one goroutine only.
//
// The server hands Put and Update slices that it does not reuse, but an implementation that
// keeps them pins the request buffer they came from; copying is the polite choice.
type KVStore interface {
	Put(key string, value []byte)                 // appends value to key's list of values
	Get(key string) [][]byte                      // key's values in insertion order; nil if none
	Delete(key string)                            // removes key and all of its values
	Update(key string, oldValue, newValue []byte) // every value equal to oldValue becomes newValue
}

// ListStore is a KVStore that also offers the list operations of the Redis protocol directly,
// so that LPUSH, LRANGE, LLEN-style lengths, DBSIZE and FLUSHALL cost what they cost in Redis
// instead of a copy of the whole list. The server uses these methods when its store has them;
// on a plain KVStore it falls back to Get/Delete/Put (correct, but linear in the list length)
// and answers DBSIZE and FLUSHALL with an error.
type ListStore interface {
	KVStore
	Prepend(key string, value []byte)           // inserts value before key's first value
	Len(key string) int                         // number of values of key; 0 if none
	Range(key string, start, stop int) [][]byte // values start..stop inclusive, indexes as in Redis LRANGE; read-only, valid until the next mutation
	Keys() int                                  // number of keys holding at least one value
	Clear()                                     // removes every key
}

// Committer is implemented by stores that make mutations durable in groups, such as a log
// that fsyncs. The server calls Commit once per round of its loop, after executing the round's
// requests and before handing any of their replies to the writers, so one Commit covers every
// mutation of the round (group commit) and no reply goes out before the mutations it follows
// are durable. If Commit fails, the round's replies are discarded and their clients
// disconnected: a client never sees an answer that may rest on a lost write.
type Committer interface {
	Commit() error
}

// NewMemoryStore returns the default store: in memory, insertion-ordered, and a ListStore.
// Put, Prepend and Update copy the values they are given. Get returns a fresh slice; Range may
// return a view of the store's own (so GET and LRANGE do not allocate), which the caller must
// not modify nor keep past the next mutation. Neither's values may be modified.
//
// Beside the lists of the KVStore contract it holds the other Redis types (strings, hashes,
// sets, sorted sets) that the server's RESP commands use; see keyspace.go.
func NewMemoryStore() KVStore { return newMemoryStore() }

func newMemoryStore() *memoryStore { return &memoryStore{keys: make(map[string]*entry)} }

// memoryStore keeps each key's value as an entry of one Redis type. The KVStore methods see a
// string as a list of one value, and other types as no values.
type memoryStore struct {
	keys map[string]*entry
}

// list holds values in order: front reversed (the most recent Prepend last), then back.
type list struct {
	front [][]byte
	back  [][]byte
}

func (l *list) len() int { return len(l.front) + len(l.back) }

// at returns the i-th value, 0 <= i < l.len().
func (l *list) at(i int) []byte {
	if i < len(l.front) {
		return l.front[len(l.front)-1-i]
	}
	return l.back[i-len(l.front)]
}

// popFront removes and returns the first value of a non-empty list.
func (l *list) popFront() []byte {
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

// popBack removes and returns the last value of a non-empty list.
func (l *list) popBack() []byte {
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
func (m *memoryStore) listFor(key string) *list {
	e := m.keys[key]
	if e == nil || (e.kind != kindList && e.kind != kindString) {
		e = &entry{kind: kindList}
		m.keys[key] = e
	}
	e.kind = kindList
	return &e.list
}

// listOf returns key's list (a string is a list of one value), or nil.
func (m *memoryStore) listOf(key string) *list {
	if e := m.keys[key]; e != nil && (e.kind == kindList || e.kind == kindString) {
		return &e.list
	}
	return nil
}

func (m *memoryStore) Put(key string, value []byte) {
	l := m.listFor(key)
	l.back = append(l.back, clone(value))
}

func (m *memoryStore) Prepend(key string, value []byte) {
	l := m.listFor(key)
	l.front = append(l.front, clone(value))
}

func (m *memoryStore) Get(key string) [][]byte {
	l := m.listOf(key)
	if l == nil || l.len() == 0 {
		return nil
	}
	out := make([][]byte, 0, l.len())
	for i := range l.len() {
		out = append(out, l.at(i))
	}
	return out
}

func (m *memoryStore) Range(key string, start, stop int) [][]byte {
	l := m.listOf(key)
	if l == nil {
		return nil
	}
	lo, hi, ok := clampRange(l.len(), start, stop)
	if !ok {
		return nil
	}
	if f := len(l.front); lo >= f {
		return l.back[lo-f : hi-f : hi-f]
	}
	out := make([][]byte, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, l.at(i))
	}
	return out
}

func (m *memoryStore) Len(key string) int {
	if l := m.listOf(key); l != nil {
		return l.len()
	}
	return 0
}

func (m *memoryStore) Delete(key string) { delete(m.keys, key) }

func (m *memoryStore) Update(key string, oldValue, newValue []byte) {
	l := m.listOf(key)
	if l == nil {
		return
	}
	var replacement []byte // one copy shared by every replaced slot: values are never modified in place
	for _, vals := range [][][]byte{l.front, l.back} {
		for i, v := range vals {
			if string(v) == string(oldValue) {
				if replacement == nil {
					replacement = clone(newValue)
				}
				vals[i] = replacement
			}
		}
	}
}

func (m *memoryStore) Keys() int { return len(m.keys) }

func (m *memoryStore) Clear() { clear(m.keys) }

// clone copies b into a slice of its own; a nil or empty b becomes an empty, non-nil slice so
// that a stored empty value is still a value.
func clone(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

// clampRange turns Redis-style inclusive indexes (negative ones count from the end) over a list
// of n values into the half-open range [lo, hi). ok is false when the range is empty.
func clampRange(n, start, stop int) (lo, hi int, ok bool) {
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

// basicLists gives a plain KVStore the list operations, built from its four methods.
type basicLists struct{ KVStore }

func (b basicLists) Prepend(key string, value []byte) {
	old := b.Get(key)
	b.Delete(key)
	b.Put(key, value)
	for _, v := range old {
		b.Put(key, v)
	}
}

func (b basicLists) Len(key string) int { return len(b.Get(key)) }

func (b basicLists) Range(key string, start, stop int) [][]byte {
	vals := b.Get(key)
	lo, hi, ok := clampRange(len(vals), start, stop)
	if !ok {
		return nil
	}
	return vals[lo:hi]
}

// listOps are the list operations the server's commands need on every store: a ListStore has
// them natively, basicLists builds them from the four KVStore methods. Counting and clearing
// every key cannot be built that way, so they are not here: the server asks for a ListStore.
type listOps interface {
	KVStore
	Prepend(key string, value []byte)
	Len(key string) int
	Range(key string, start, stop int) [][]byte
}

// listsOf returns store's list operations and whether store is a ListStore natively.
func listsOf(store KVStore) (listOps, bool) {
	if ls, ok := store.(ListStore); ok {
		return ls, true
	}
	return basicLists{store}, false
}
