package kvserver

import "ds440/kvserver/internal/keyspace"

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
// sets, sorted sets) that the server's RESP commands use; see internal/keyspace.
func NewMemoryStore() KVStore { return newMemoryStore() }

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
	lo, hi, ok := keyspace.ClampRange(len(vals), start, stop)
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
