package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"ds440/kvserver/internal/keyspace"
)

// mutation is one step of a scripted workload, applied alike to a FileStore and a memory store.
type mutation struct {
	verb     string // put, prepend, delete, update, clear
	key      string
	val, new string
}

func (m mutation) applyTo(s listStore) error {
	switch m.verb {
	case "put":
		return s.Put(m.key, []byte(m.val))
	case "prepend":
		return s.Prepend(m.key, []byte(m.val))
	case "delete":
		return s.Delete(m.key)
	case "update":
		return s.Update(m.key, []byte(m.val), []byte(m.new))
	case "clear":
		return s.Clear()
	}
	panic("unknown verb " + m.verb)
}

// memoryAfter returns a memory store after muts, the reference a FileStore must equal.
func memoryAfter(muts []mutation) listStore {
	ref := listStore(memRef{keyspace.New()})
	for _, m := range muts {
		m.applyTo(ref)
	}
	return ref
}

// requireSame fails unless got and want hold the same values for every key the mutations touch.
func requireSame(t *testing.T, got, want listStore, muts []mutation) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range muts {
		if m.key == "" && m.verb == "clear" || seen[m.key] {
			continue
		}
		seen[m.key] = true
		g, w := got.Get(m.key), want.Get(m.key)
		if !slices.EqualFunc(g, w, bytes.Equal) || (g == nil) != (w == nil) {
			t.Fatalf("Get(%q) = %q, want %q", m.key, g, w)
		}
	}
	if got.Keys() != want.Keys() {
		t.Fatalf("Keys() = %d, want %d", got.Keys(), want.Keys())
	}
}

func openTest(t *testing.T, path string, policy SyncPolicy, opts Options) *FileStore {
	t.Helper()
	f, err := Open(path, policy, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

var replayCases = []struct {
	name string
	muts []mutation
}{
	{"empty", nil},
	{"one put", []mutation{{"put", "k", "v", ""}}},
	{"insertion order", []mutation{{"put", "k", "1", ""}, {"put", "k", "2", ""}, {"put", "k", "3", ""}}},
	{"duplicates", []mutation{{"put", "k", "x", ""}, {"put", "k", "x", ""}, {"put", "j", "x", ""}}},
	{"empty and binary values", []mutation{{"put", "k", "", ""}, {"put", "k", "\x00\xff\n:\r", ""}, {"put", "k:colon", "a:b:c", ""}}},
	{"delete", []mutation{{"put", "k", "1", ""}, {"put", "j", "2", ""}, {"delete", "k", "", ""}}},
	{"delete missing", []mutation{{"delete", "nope", "", ""}, {"put", "k", "1", ""}}},
	{"delete then put", []mutation{{"put", "k", "1", ""}, {"delete", "k", "", ""}, {"put", "k", "2", ""}}},
	{"update every match", []mutation{{"put", "k", "a", ""}, {"put", "k", "b", ""}, {"put", "k", "a", ""}, {"update", "k", "a", "z"}}},
	{"update no match", []mutation{{"put", "k", "a", ""}, {"update", "k", "q", "z"}, {"update", "missing", "a", "z"}}},
	{"update to empty", []mutation{{"put", "k", "a", ""}, {"update", "k", "a", ""}, {"put", "k", "b", ""}}},
	{"prepend", []mutation{{"put", "k", "2", ""}, {"prepend", "k", "1", ""}, {"prepend", "k", "0", ""}, {"put", "k", "3", ""}}},
	{"clear", []mutation{{"put", "k", "1", ""}, {"put", "j", "2", ""}, {"clear", "", "", ""}, {"put", "j", "3", ""}}},
	{"many keys", func() []mutation {
		var ms []mutation
		for i := range 300 {
			ms = append(ms, mutation{"put", fmt.Sprint("key", i%37), fmt.Sprint("value", i), ""})
			if i%11 == 0 {
				ms = append(ms, mutation{"delete", fmt.Sprint("key", i%13), "", ""})
			}
			if i%7 == 0 {
				ms = append(ms, mutation{"update", fmt.Sprint("key", i%37), fmt.Sprint("value", i-37), "updated"})
			}
		}
		return ms
	}()},
}

func TestFileStoreReplayEqualsMemory(t *testing.T) {
	for _, tc := range replayCases {
		for _, policy := range []SyncPolicy{SyncAlways, SyncEverySecond} {
			t.Run(tc.name+"/"+policy.String(), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "log")
				want := memoryAfter(tc.muts)
				f := openTest(t, path, policy, Options{})
				for _, m := range tc.muts {
					m.applyTo(f)
				}
				requireSame(t, f, want, tc.muts)
				if err := f.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}

				g := openTest(t, path, policy, Options{})
				requireSame(t, g, want, tc.muts)
				if r := g.Recovery(); r.Cut != 0 || r.Reason != nil {
					t.Fatalf("Recovery() = %+v on an intact log", r)
				}
			})
		}
	}
}

// writeLog writes muts to a new log and returns its bytes and its size after each mutation.
func writeLog(t *testing.T, muts []mutation) (data []byte, ends []int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "orig")
	f := openTest(t, path, SyncEverySecond, Options{})
	for _, m := range muts {
		m.applyTo(f)
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, f.log.Size())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data, ends
}

func TestFileStoreTornTail(t *testing.T) {
	muts := []mutation{
		{"put", "k", "one", ""}, {"put", "j", "two", ""}, {"update", "k", "one", "uno"},
		{"prepend", "j", "zero", ""}, {"put", "k", "the last record, torn at every byte", ""},
	}
	data, ends := writeLog(t, muts)
	dir := t.TempDir()
	lastStart, lastEnd := ends[len(ends)-2], ends[len(ends)-1]
	want := memoryAfter(muts[:len(muts)-1])

	for cut := lastStart; cut < lastEnd; cut++ {
		path := filepath.Join(dir, fmt.Sprint("cut", cut))
		if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		f := openTest(t, path, SyncAlways, Options{})
		requireSame(t, f, want, muts)
		r := f.Recovery()
		wantCut := cut - lastStart
		if r.Records != len(muts)-1 || r.Size != lastStart || r.Cut != wantCut ||
			(wantCut > 0) != errors.Is(r.Reason, ErrTornRecord) {
			t.Fatalf("cut at %d: Recovery() = %+v, want %d records, size %d, %d bytes cut for a torn record",
				cut, r, len(muts)-1, lastStart, wantCut)
		}
		if st, err := os.Stat(path); err != nil || st.Size() != lastStart {
			t.Fatalf("cut at %d: file is %d bytes (%v), want it truncated to %d", cut, st.Size(), err, lastStart)
		}
		// The repaired log takes new records after the last intact one.
		f.Put("after", []byte("repair"))
		f.Close()
		g := openTest(t, path, SyncAlways, Options{})
		if got := g.Get("after"); len(got) != 1 || string(got[0]) != "repair" || g.Recovery().Cut != 0 {
			t.Fatalf("cut at %d: after repair and reopen Get = %q, Recovery = %+v", cut, got, g.Recovery())
		}
		repaired := append(slices.Clone(muts[:len(muts)-1]), mutation{"put", "after", "repair", ""})
		requireSame(t, g, memoryAfter(repaired), muts)
		g.Close()
	}
}

func TestFileStoreTornHeader(t *testing.T) {
	dir := t.TempDir()
	for n := 0; n < len(logMagic); n++ {
		path := filepath.Join(dir, fmt.Sprint("hdr", n))
		if err := os.WriteFile(path, []byte(logMagic[:n]), 0o644); err != nil {
			t.Fatal(err)
		}
		f := openTest(t, path, SyncAlways, Options{})
		f.Put("k", []byte("v"))
		f.Close()
		g := openTest(t, path, SyncAlways, Options{})
		if got := g.Get("k"); len(got) != 1 || g.Recovery().Records != 1 {
			t.Fatalf("header cut to %d bytes: after rewrite Get = %q, Recovery = %+v", n, got, g.Recovery())
		}
		g.Close()
	}
}

func TestFileStoreRefusesForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	content := []byte("my precious notes, not a log\n")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, SyncAlways, Options{}); !errors.Is(err, ErrNotLog) {
		t.Fatalf("Open on a text file: err = %v, want ErrNotLog", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, content) {
		t.Fatalf("the file was modified: %q", after)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "log"), SyncAlways, Options{}); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}

func TestFileStoreLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	f := openTest(t, path, SyncAlways, Options{})
	if _, err := Open(path, SyncAlways, Options{}); !errors.Is(err, ErrLogLocked) {
		t.Fatalf("second open: err = %v, want ErrLogLocked", err)
	}
	f.Close()
	g := openTest(t, path, SyncAlways, Options{})
	g.Close()
}

func TestParseSyncPolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SyncPolicy
		ok   bool
	}{
		{"always", SyncAlways, true},
		{"everysec", SyncEverySecond, true},
		{"no", 0, false},
		{"", 0, false},
		{"Always", 0, false},
	} {
		got, err := ParseSyncPolicy(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseSyncPolicy(%q) = %v, %v", tc.in, got, err)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "log"), SyncPolicy(7), Options{}); err == nil {
		t.Error("Open accepted an invalid policy")
	}
}

// BenchmarkFileStorePut measures Put on a FileStore beside the in-memory store in one run and
// reports the ratio (x-memory: how many times slower the durable store is). The group-50 runs
// commit every 50 Puts, as kvserver does once per round of requests from 50 clients.
func BenchmarkFileStorePut(b *testing.B) {
	value := bytes.Repeat([]byte("v"), 16)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("key-", i)
	}
	for _, tc := range []struct {
		name   string
		policy SyncPolicy
		group  int
	}{
		{"everysec", SyncEverySecond, 0},
		{"always", SyncAlways, 0},
		{"everysec-group-50", SyncEverySecond, 50},
		{"always-group-50", SyncAlways, 50},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f, err := Open(filepath.Join(b.TempDir(), "log"), tc.policy, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			mem := memRef{keyspace.New()}
			start := time.Now()
			putLoop(mem, b.N, keys, value, 0)
			memNs := float64(time.Since(start).Nanoseconds()) / float64(b.N)
			if tc.group > 0 {
				f.Commit()
			}
			b.ResetTimer()
			putLoop(f, b.N, keys, value, max(tc.group, 1)) // group 0: a Commit per Put
			b.StopTimer()
			fileNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(memNs, "memory-ns/op")
			b.ReportMetric(fileNs/memNs, "x-memory")
		})
	}
}

// putLoop makes n Puts over keys, deleting each key as the loop comes back to it so that lists
// stay short and every run does the same work, and commits every group Puts if group > 0.
func putLoop(s listStore, n int, keys []string, value []byte, group int) {
	for i := 0; i < n; i++ {
		k := keys[i%len(keys)]
		if i >= len(keys) && i%len(keys) == 0 {
			s.Delete(k)
		}
		s.Put(k, value)
		if group > 0 && i%group == group-1 {
			s.(interface{ Commit() error }).Commit()
		}
	}
	if group > 0 {
		s.(interface{ Commit() error }).Commit()
	}
}

func BenchmarkFileStoreReplay(b *testing.B) {
	path := filepath.Join(b.TempDir(), "log")
	f, err := Open(path, SyncEverySecond, Options{})
	if err != nil {
		b.Fatal(err)
	}
	const records = 100_000
	for i := range records {
		f.Put(fmt.Sprint("key:", i%1000), []byte("a sixteen b value"))
	}
	f.Close()
	b.ResetTimer()
	for b.Loop() {
		g, err := Open(path, SyncEverySecond, Options{})
		if err != nil {
			b.Fatal(err)
		}
		g.Close()
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
