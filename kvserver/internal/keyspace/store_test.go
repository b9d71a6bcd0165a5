package keyspace

import (
	"runtime"
	"strconv"
	"testing"

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
