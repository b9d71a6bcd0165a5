package keyspace

import (
	"runtime"
	"strconv"
	"testing"
	"unsafe"

	"ds440/internal/testutil"
)

// TestClearGivesBackRoom checks that a store cleared after holding many keys (FLUSHALL) does
// not keep the room of those keys: refilled with a few of them, it holds no more heap than a
// fresh store of that size and a MiB or two of slack. It is not parallel: the heap it
// reads is the whole process's.
func TestClearGivesBackRoom(t *testing.T) {
	const many, few = 300_000, 1_000
	fill := func(s *Store, n int) {
		for i := range n {
			s.Apply(Record{Op: OpSet, Key: "key:" + strconv.Itoa(i), A: []byte("v")})
		}
	}
	before := testutil.LiveHeap()
	fresh := New()
	fill(fresh, few)
	freshHeld := int64(testutil.LiveHeap()) - int64(before)
	runtime.KeepAlive(fresh)
	fresh = nil

	before = testutil.LiveHeap()
	s := New()
	fill(s, many)
	s.Clear()
	fill(s, few)
	held := int64(testutil.LiveHeap()) - int64(before)
	t.Logf("%d keys: %d B of heap in a fresh store, %d B after a Clear of %d keys", few, freshHeld, held, many)
	if s.Keys() != few {
		t.Fatalf("%d keys, want %d", s.Keys(), few)
	}
	if limit := freshHeld + 2<<20; held > limit {
		t.Errorf("after a Clear of %d keys, %d keys hold %d B of heap, want at most %d B (a fresh store's %d B and 2 MiB)", many, few, held, limit, freshHeld)
	}
	runtime.KeepAlive(s)
}

// The entry kept aside for a second lookup of the same key (Store.find) never outlives its
// key's removal or replacement: after each change, Lookup agrees with the map.
func TestLookupAfterEveryChange(t *testing.T) {
	t.Parallel()
	s := New()
	check := func(step, key string, want []byte) {
		t.Helper()
		e := s.Lookup(key)
		switch {
		case want == nil && e != nil:
			t.Fatalf("after %s: Lookup(%q) = an entry of kind %v, want none", step, key, e.Kind)
		case want != nil && (e == nil || e != s.keys[key] || string(e.Str()) != string(want)):
			t.Fatalf("after %s: Lookup(%q) = %v, want the map's entry holding %q", step, key, e, want)
		}
	}
	score := make([]byte, 8)
	s.Apply(Record{Op: OpSet, Key: "a", A: []byte("1")})
	check("SET a", "a", []byte("1"))
	s.Apply(Record{Op: OpDelete, Key: "a"})
	check("DEL a", "a", nil)
	s.Apply(Record{Op: OpPut, Key: "a", A: []byte("2")})
	check("RPUSH a", "a", []byte("2"))
	s.Apply(Record{Op: OpLPop, Key: "a"})
	check("LPOP of a's last value", "a", nil)
	s.Apply(Record{Op: OpZAdd, Key: "a", A: []byte("m"), B: score})
	s.Apply(Record{Op: OpSet, Key: "a", A: []byte("3")}) // the entry changes kind in place
	check("SET over a sorted set", "a", []byte("3"))
	s.Apply(Record{Op: OpHSet, Key: "a", A: []byte("f"), B: []byte("v")}) // replay's new entry
	if e := s.Lookup("a"); e == nil || e.Kind != KindHash || e != s.keys["a"] {
		t.Fatalf("after HSET over a string: Lookup(a) = %v, want the map's hash", e)
	}
	s.Apply(Record{Op: OpSet, Key: "b", A: []byte("4")})
	s.Apply(Record{Op: OpHDel, Key: "a", A: []byte("f")})
	check("HDEL of a's last field", "a", nil)
	check("HDEL of a's last field", "b", []byte("4"))
	s.Clear()
	check("Clear", "b", nil)
}

// BenchmarkLookupThenSet is SET's work in the store on a keyspace of 1,000 keys: a Lookup
// of the key (the command's checks), then the Record that replaces its value.
func BenchmarkLookupThenSet(b *testing.B) {
	const n = 1_000
	s := New()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(100_000_000+i)
		s.Apply(Record{Op: OpSet, Key: keys[i], A: []byte("xxx")})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i]
		i = (i + 7919) % n
		if s.Lookup(k) == nil {
			b.Fatal("missing key")
		}
		s.Apply(Record{Op: OpSet, Key: k, A: []byte("yyy")})
	}
}

// An Entry, allocated once per key, stays in the 144-byte size class: with its fields in the
// order they are read, a command on a string touches two cache lines of it.
func TestEntrySize(t *testing.T) {
	t.Parallel()
	if size := unsafe.Sizeof(Entry{}); size > 144 {
		t.Errorf("an Entry takes %d bytes, more than the 144 of its size class", size)
	}
}
