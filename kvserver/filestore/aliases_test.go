package filestore

// listStore is what the tests compare: a FileStore and the keyspace's memory store.
type listStore interface {
	Put(key string, value []byte)
	Get(key string) [][]byte
	Delete(key string)
	Update(key string, oldValue, newValue []byte)
	Prepend(key string, value []byte)
	Len(key string) int
	Range(key string, start, stop int) [][]byte
	Keys() int
	Clear()
}

// valueStrings returns vs as strings, for comparisons and messages.
func valueStrings(vs [][]byte) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, string(v))
	}
	return out
}
