package filestore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"ds440/internal/testutil"
	"ds440/kvserver/internal/keyspace"
)

// TestReplayHeapFollowsLiveData checks that a replayed store holds memory in proportion to
// its live data, not to the log it was replayed from: logs of about 32 MiB, most of them overwritten
// or deleted values, leave a store whose heap is bounded by a small multiple of its live keys
// and values (the index's own overhead per key included) plus a few MiB. It is not parallel:
// the heap it reads is the whole process's.
func TestReplayHeapFollowsLiveData(t *testing.T) {
	const (
		liveKeys  = 20_000
		valueSize = 100
		logSize   = 32 << 20
	)
	value := make([]byte, valueSize)
	set := func(buf []byte, key string) []byte {
		return keyspace.Record{Op: keyspace.OpSet, Key: key, A: value}.AppendTo(buf)
	}
	for _, tc := range []struct {
		name  string
		write func(buf []byte) []byte // appends the records of the log to buf
	}{
		{"overwritten", func(buf []byte) []byte { // each key SET again and again
			for i := 0; len(buf) < logSize; i++ {
				buf = set(buf, fmt.Sprint("key:", i%liveKeys))
			}
			return buf
		}},
		{"deleted", func(buf []byte) []byte { // many keys created, most deleted
			var keys int
			for keys = 0; len(buf) < logSize; keys++ {
				buf = set(buf, fmt.Sprint("key:", keys))
			}
			for i := liveKeys; i < keys; i++ {
				buf = keyspace.Record{Op: keyspace.OpDelete, Key: fmt.Sprint("key:", i)}.AppendTo(buf)
			}
			return buf
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			buf := tc.write([]byte(keyspace.Magic))
			if err := os.WriteFile(path, buf, 0o644); err != nil {
				t.Fatal(err)
			}
			size := len(buf)
			buf = nil
			before := testutil.LiveHeap()
			f, err := Open(path, SyncEverySecond, Options{CompactSize: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			held := int64(testutil.LiveHeap()) - int64(before)
			if f.Keys() != liveKeys {
				t.Fatalf("%d keys after replay, want %d", f.Keys(), liveKeys)
			}
			live := 0
			f.ForEach(func(key string, e *keyspace.Entry) { live += len(key) + len(e.Str()) })
			limit := int64(4*live + 6<<20)
			t.Logf("log %d B, live data %d B, heap held by the store %d B (%.1fx live), limit %d B", size, live, held, float64(held)/float64(live), limit)
			if held > limit {
				t.Errorf("the replayed store holds %d B of heap for %d B of live data (from a log of %d B), want at most %d B", held, live, size, limit)
			}
			runtime.KeepAlive(f)
		})
	}
}
