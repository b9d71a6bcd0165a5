package filestore

import "ds440/kvserver/internal/keyspace"

// listStore is what the tests compare: a FileStore and the keyspace's memory store (memRef).
type listStore interface {
	Put(key string, value []byte) error
	Get(key string) [][]byte
	Delete(key string) error
	Update(key string, oldValue, newValue []byte) error
	Prepend(key string, value []byte) error
	Len(key string) int
	Range(key string, start, stop int) [][]byte
	Keys() int
	Clear() error
}

// memRef is the keyspace's memory store with a FileStore's signatures: the reference a
// FileStore must equal. Its mutations cannot fail.
type memRef struct{ *keyspace.Store }

func (m memRef) Put(key string, value []byte) error     { m.Store.Put(key, value); return nil }
func (m memRef) Prepend(key string, value []byte) error { m.Store.Prepend(key, value); return nil }
func (m memRef) Delete(key string) error                { m.Store.Delete(key); return nil }
func (m memRef) Clear() error                           { m.Store.Clear(); return nil }
func (m memRef) Update(key string, oldValue, newValue []byte) error {
	m.Store.Update(key, oldValue, newValue)
	return nil
}

// valueStrings returns vs as strings, for comparisons and messages.
func valueStrings(vs [][]byte) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, string(v))
	}
	return out
}
