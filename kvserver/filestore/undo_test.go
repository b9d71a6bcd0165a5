package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ds440/internal/durable"
	"ds440/kvserver/internal/keyspace"
)

// Records for the tests: r(op, key, fields...), with a score or a time as the last field
// encoded as the log encodes them.
func r(op keyspace.Op, key string, fields ...string) keyspace.Record {
	rec := keyspace.Record{Op: op, Key: key}
	if len(fields) > 0 {
		rec.A = []byte(fields[0])
	}
	if len(fields) > 1 {
		rec.B = []byte(fields[1])
	}
	return rec
}

func zadd(key, member string, score float64) keyspace.Record {
	return keyspace.Record{Op: keyspace.OpZAdd, Key: key, A: []byte(member), B: keyspace.Float64Bytes(score)}
}

func expire(key string, ms int64) keyspace.Record {
	return keyspace.Record{Op: keyspace.OpExpireAt, Key: key, A: keyspace.Int64Bytes(ms)}
}

// typedState prints every key of s with its type, expiry and contents, in an order of its
// own, so that two stores holding the same keyspace print the same.
func typedState(s interface {
	ForEach(func(string, *keyspace.Entry))
}) string {
	var keys []string
	entries := map[string]*keyspace.Entry{}
	s.ForEach(func(k string, e *keyspace.Entry) { keys, entries[k] = append(keys, k), e })
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		e := entries[k]
		fmt.Fprintf(&b, "%s %v exp=%d:", k, e.Kind, e.ExpireAt)
		switch e.Kind {
		case keyspace.KindList, keyspace.KindString:
			for v := range e.Values(0, e.Len()) {
				fmt.Fprintf(&b, " %q", v)
			}
		case keyspace.KindHash:
			for _, f := range slices.Sorted(maps.Keys(e.Hash)) {
				fmt.Fprintf(&b, " %q=%q", f, e.Hash[f])
			}
		case keyspace.KindSet:
			for _, m := range slices.Sorted(maps.Keys(e.Set)) {
				fmt.Fprintf(&b, " %q", m)
			}
		case keyspace.KindZSet:
			for _, it := range e.ZSet.Items() {
				fmt.Fprintf(&b, " %q=%v", it.Member, it.Score)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// undoBase is the committed keyspace the undo cases start from: every type, with and without
// an expiry, with a list long enough to span several chunks and keys one value away from
// being removed.
func undoBase() []keyspace.Record {
	recs := []keyspace.Record{
		r(keyspace.OpSet, "str", "hello"), expire("str", 1e12),
		r(keyspace.OpSet, "plain", "p"),
		r(keyspace.OpPut, "one", "only"), expire("one", 2e12),
		r(keyspace.OpHSet, "hash", "f1", "v1"), r(keyspace.OpHSet, "hash", "f2", "value2"), expire("hash", 3e12),
		r(keyspace.OpHSet, "hash1", "f", "v"), expire("hash1", 4e12),
		r(keyspace.OpSAdd, "set", "a"), r(keyspace.OpSAdd, "set", "b"),
		r(keyspace.OpSAdd, "set1", "m"), expire("set1", 5e12),
		zadd("zset", "x", 1), zadd("zset", "y", 2),
		zadd("zset1", "z", 3), expire("zset1", 6e12),
	}
	for i := range 300 {
		recs = append(recs, r(keyspace.OpPut, "list", fmt.Sprint("v", i%7)))
	}
	return append(recs, r(keyspace.OpPrepend, "list", "first"), expire("list", 7e12))
}

// undoCases are rounds of mutations, each of which a failed Commit must undo: every kind of
// mutation over every kind of key it treats differently.
var undoCases = []struct {
	name  string
	round []keyspace.Record
}{
	{"put on a missing key", []keyspace.Record{r(keyspace.OpPut, "new", "v")}},
	{"put on a list", []keyspace.Record{r(keyspace.OpPut, "list", "v")}},
	{"put on a string", []keyspace.Record{r(keyspace.OpPut, "str", "v")}},
	{"put on a hash", []keyspace.Record{r(keyspace.OpPut, "hash", "v")}},
	{"prepend on a list", []keyspace.Record{r(keyspace.OpPrepend, "list", "v")}},
	{"prepend on a string", []keyspace.Record{r(keyspace.OpPrepend, "str", "v")}},
	{"delete a list", []keyspace.Record{r(keyspace.OpDelete, "list")}},
	{"delete a hash", []keyspace.Record{r(keyspace.OpDelete, "hash")}},
	{"update a list", []keyspace.Record{r(keyspace.OpUpdate, "list", "v3", "three")}},
	{"update a string", []keyspace.Record{r(keyspace.OpUpdate, "str", "hello", "bye")}},
	{"clear", []keyspace.Record{r(keyspace.OpClear, "")}},
	{"set a missing key", []keyspace.Record{r(keyspace.OpSet, "new", "v")}},
	{"set a string", []keyspace.Record{r(keyspace.OpSet, "str", "other")}},
	{"set a list", []keyspace.Record{r(keyspace.OpSet, "list", "v")}},
	{"set a hash", []keyspace.Record{r(keyspace.OpSet, "hash", "v")}},
	{"set a sorted set", []keyspace.Record{r(keyspace.OpSet, "zset", "v")}},
	{"append to a string", []keyspace.Record{r(keyspace.OpAppend, "str", " world")}},
	{"append to a missing key", []keyspace.Record{r(keyspace.OpAppend, "new", "v")}},
	{"append to a list", []keyspace.Record{r(keyspace.OpAppend, "list", "v")}},
	{"append to a set", []keyspace.Record{r(keyspace.OpAppend, "set", "v")}},
	{"lpop a list", []keyspace.Record{r(keyspace.OpLPop, "list")}},
	{"rpop a list", []keyspace.Record{r(keyspace.OpRPop, "list")}},
	{"lpop the last value", []keyspace.Record{r(keyspace.OpLPop, "one")}},
	{"rpop the last value", []keyspace.Record{r(keyspace.OpRPop, "one")}},
	{"pop a string", []keyspace.Record{r(keyspace.OpRPop, "str")}},
	{"hset a new field", []keyspace.Record{r(keyspace.OpHSet, "hash", "f3", "v3")}},
	{"hset a field to a value of its size", []keyspace.Record{r(keyspace.OpHSet, "hash", "f1", "xx")}},
	{"hset a field to a longer value", []keyspace.Record{r(keyspace.OpHSet, "hash", "f1", "longer")}},
	{"hset a missing key", []keyspace.Record{r(keyspace.OpHSet, "new", "f", "v")}},
	{"hset a list", []keyspace.Record{r(keyspace.OpHSet, "list", "f", "v")}},
	{"hdel a field", []keyspace.Record{r(keyspace.OpHDel, "hash", "f2")}},
	{"hdel the last field", []keyspace.Record{r(keyspace.OpHDel, "hash1", "f")}},
	{"sadd a member", []keyspace.Record{r(keyspace.OpSAdd, "set", "c"), r(keyspace.OpSAdd, "set", "a")}},
	{"sadd a missing key", []keyspace.Record{r(keyspace.OpSAdd, "new", "m")}},
	{"sadd a string", []keyspace.Record{r(keyspace.OpSAdd, "str", "m")}},
	{"srem a member", []keyspace.Record{r(keyspace.OpSRem, "set", "a")}},
	{"srem the last member", []keyspace.Record{r(keyspace.OpSRem, "set1", "m")}},
	{"zadd a member", []keyspace.Record{zadd("zset", "w", 0)}},
	{"zadd a new score", []keyspace.Record{zadd("zset", "x", 5)}},
	{"zadd a missing key", []keyspace.Record{zadd("new", "w", 0)}},
	{"zadd a set", []keyspace.Record{zadd("set", "w", 0)}},
	{"zrem a member", []keyspace.Record{r(keyspace.OpZRem, "zset", "y")}},
	{"zrem the last member", []keyspace.Record{r(keyspace.OpZRem, "zset1", "z")}},
	{"expire a key", []keyspace.Record{expire("plain", 9e12)}},
	{"persist a key", []keyspace.Record{expire("str", 0)}},
	{"many changes of one key", []keyspace.Record{
		r(keyspace.OpAppend, "str", "!"), r(keyspace.OpAppend, "str", "?"), expire("str", 8e12),
		r(keyspace.OpPut, "str", "v"), r(keyspace.OpLPop, "str"), r(keyspace.OpHSet, "str", "f", "v"),
		r(keyspace.OpDelete, "str"), r(keyspace.OpSAdd, "str", "m"), r(keyspace.OpSet, "str", "last"),
	}},
	{"a clear among other changes", []keyspace.Record{
		r(keyspace.OpPut, "list", "v"), r(keyspace.OpHSet, "hash", "f1", "yy"), r(keyspace.OpClear, ""),
		r(keyspace.OpSet, "str", "after"), r(keyspace.OpPut, "new", "v"), r(keyspace.OpClear, ""), r(keyspace.OpPut, "new", "w"),
	}},
}

// A failed Commit undoes every kind of mutation over every kind of key, whatever the round did
// before it: the store then holds exactly what it held after the last successful Commit, which
// is what the log holds. The same round committed afterwards makes the store what a memory
// store makes of it, and the log replays to that.
func TestFileStoreFailedCommitUndoesEveryMutation(t *testing.T) {
	t.Parallel()
	var all []keyspace.Record // every case in one round
	for _, tc := range undoCases {
		all = append(all, tc.round...)
	}
	cases := append(undoCases[:len(undoCases):len(undoCases)], struct {
		name  string
		round []keyspace.Record
	}{"every case in one round", all})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, policy := range []SyncPolicy{SyncAlways, SyncEverySecond} {
				fsys := durable.NewMemFS()
				f := openMem(t, fsys, policy, Options{SyncInterval: time.Hour})
				ref := keyspace.New()
				for _, rec := range undoBase() {
					if err := f.Mutate(rec); err != nil {
						t.Fatal(err)
					}
					ref.Apply(rec)
				}
				if err := f.Commit(); err != nil {
					t.Fatal(err)
				}
				before := typedState(f)
				for _, rec := range tc.round {
					if err := f.Mutate(rec); err != nil {
						t.Fatal(err)
					}
				}
				if typedState(f) == before {
					t.Fatalf("%v: the round changed nothing", policy)
				}
				boom := errors.New("disk on fire")
				fsys.FailAt(fsys.Ops()+1, boom)
				if err := f.Commit(); !errors.Is(err, boom) {
					t.Fatalf("%v: Commit with a failing write = %v", policy, err)
				}
				if got := typedState(f); got != before {
					t.Fatalf("%v: after the failed Commit the store holds\n%s\nwant, as before the round,\n%s", policy, got, before)
				}
				for _, rec := range tc.round {
					f.Mutate(rec)
					ref.Apply(rec)
				}
				if err := f.Commit(); err != nil {
					t.Fatalf("%v: Commit after a failure = %v", policy, err)
				}
				want := typedState(ref)
				if got := typedState(f); got != want {
					t.Fatalf("%v: after the round was committed the store holds\n%s\nwant\n%s", policy, got, want)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				if got := typedState(openMem(t, fsys.Restart(false), policy, Options{})); got != want {
					t.Fatalf("%v: the log replays to\n%s\nwant\n%s", policy, got, want)
				}
			}
		})
	}
}

// Random rounds of random mutations over a few keys, a third of whose Commits fail: after
// every Commit the store holds what a memory store holds after the rounds that were
// committed, and so does the log.
func TestFileStoreUndoRandomRounds(t *testing.T) {
	t.Parallel()
	keys := []string{"a", "b", "c"}
	members := []string{"x", "y", "z"}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 440))
		pick := func(s []string) string { return s[rng.IntN(len(s))] }
		random := func() keyspace.Record {
			k, m := pick(keys), pick(members)
			switch rng.IntN(16) {
			case 0:
				return r(keyspace.OpPut, k, m)
			case 1:
				return r(keyspace.OpPrepend, k, m)
			case 2:
				return r(keyspace.OpDelete, k)
			case 3:
				return r(keyspace.OpUpdate, k, m, pick(members))
			case 4:
				if rng.IntN(4) == 0 {
					return r(keyspace.OpClear, "")
				}
				return r(keyspace.OpSet, k, m)
			case 5:
				return r(keyspace.OpSet, k, m)
			case 6:
				return r(keyspace.OpAppend, k, m)
			case 7:
				return r(keyspace.OpLPop, k)
			case 8:
				return r(keyspace.OpRPop, k)
			case 9:
				return r(keyspace.OpHSet, k, m, strings.Repeat(m, rng.IntN(3)))
			case 10:
				return r(keyspace.OpHDel, k, m)
			case 11:
				return r(keyspace.OpSAdd, k, m)
			case 12:
				return r(keyspace.OpSRem, k, m)
			case 13:
				return zadd(k, m, float64(rng.IntN(3)))
			case 14:
				return r(keyspace.OpZRem, k, m)
			}
			return expire(k, int64(rng.IntN(3))*1e12)
		}
		fsys := durable.NewMemFS()
		f := openMem(t, fsys, SyncAlways, Options{})
		ref := keyspace.New()
		failed := 0
		for round := range 200 {
			recs := make([]keyspace.Record, 1+rng.IntN(8))
			for i := range recs {
				recs[i] = random()
				if err := f.Mutate(recs[i]); err != nil {
					t.Fatal(err)
				}
			}
			fail := rng.IntN(3) == 0
			if fail {
				fsys.FailAt(fsys.Ops()+1+rng.IntN(2), errors.New("disk on fire")) // the write or the fsync
				failed++
			} else {
				for _, rec := range recs {
					ref.Apply(rec)
				}
			}
			if err := f.Commit(); (err != nil) != fail {
				t.Fatalf("seed %d round %d: Commit = %v, want a failure: %v", seed, round, err, fail)
			}
			if got, want := typedState(f), typedState(ref); got != want {
				t.Fatalf("seed %d round %d (%v, Commit failed: %v): the store holds\n%s\nwant\n%s", seed, round, recs, fail, got, want)
			}
		}
		if failed == 0 {
			t.Fatalf("seed %d: no Commit failed", seed)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got, want := typedState(openMem(t, fsys.Restart(true), SyncAlways, Options{})), typedState(ref); got != want {
			t.Fatalf("seed %d: the log replays to\n%s\nwant\n%s", seed, got, want)
		}
	}
}

// A successful Commit forgets the round's undo steps, and with them every entry the round
// dropped: rounds that commit keep no more than one round's worth of undo memory, and a huge
// round does not pin its buffers.
func TestFileStoreUndoLogClearedOnCommit(t *testing.T) {
	t.Parallel()
	f := openMem(t, durable.NewMemFS(), SyncEverySecond, Options{SyncInterval: time.Hour})
	big := bytes.Repeat([]byte("b"), 2*maxKeptUndo)
	for round := range 500 {
		k := fmt.Sprint("k", round%10)
		for _, rec := range []keyspace.Record{
			r(keyspace.OpSet, k, "v"), r(keyspace.OpAppend, k, "w"), r(keyspace.OpHSet, "h", k, "v"),
			r(keyspace.OpPut, "l", k), r(keyspace.OpDelete, k), zadd("z", k, float64(round)),
		} {
			if err := f.Mutate(rec); err != nil {
				t.Fatal(err)
			}
		}
		if round%100 == 99 {
			f.Mutate(keyspace.Record{Op: keyspace.OpSet, Key: "big", A: big})
			f.Mutate(keyspace.Record{Op: keyspace.OpSet, Key: "big", A: big}) // saves the first
			f.Mutate(r(keyspace.OpClear, ""))
		}
		if len(f.undo.steps) == 0 {
			t.Fatalf("round %d noted no undo step", round)
		}
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		u := &f.undo
		if len(u.steps)+len(u.bytes)+len(u.values)+len(u.cleared) != 0 {
			t.Fatalf("round %d: a successful Commit kept %d undo steps, %d bytes", round, len(u.steps), len(u.bytes))
		}
		if cap(u.bytes) > maxKeptUndo || cap(u.steps) > maxKeptUndo/64 || cap(u.cleared) > maxKeptUndo/16 {
			t.Fatalf("round %d: the undo log keeps %d bytes, %d steps", round, cap(u.bytes), cap(u.steps))
		}
		for _, st := range u.steps[:cap(u.steps)] {
			if st.entry != nil {
				t.Fatalf("round %d: the undo log keeps a dropped entry alive", round)
			}
		}
		for _, c := range u.cleared[:cap(u.cleared)] {
			if c.entry != nil {
				t.Fatalf("round %d: the undo log keeps a cleared entry alive", round)
			}
		}
	}
}

// benchMutations are the mutations of kvserver's hottest commands that the benchmarks below
// make: for each of 1,024 keys, SET over a string, HSET over a field of one hash, or RPUSH then
// LPOP, as rounds (one key's records each).
func benchMutations() []struct {
	name   string
	rounds [][]keyspace.Record
} {
	value := string(bytes.Repeat([]byte("v"), 16))
	cases := []struct {
		name string
		recs func(key string) []keyspace.Record
	}{
		{"set", func(k string) []keyspace.Record { return []keyspace.Record{r(keyspace.OpSet, k, value)} }},
		{"hset", func(k string) []keyspace.Record { return []keyspace.Record{r(keyspace.OpHSet, "hash", k, value)} }},
		{"push-pop", func(k string) []keyspace.Record {
			return []keyspace.Record{r(keyspace.OpPut, k, value), r(keyspace.OpLPop, k)}
		}},
	}
	out := make([]struct {
		name   string
		rounds [][]keyspace.Record
	}, len(cases))
	for i, c := range cases {
		out[i].name = c.name
		for k := range 1024 {
			out[i].rounds = append(out[i].rounds, c.recs(fmt.Sprint("key-", k)))
		}
	}
	return out
}

// BenchmarkFileStoreMutate measures the typed mutations of kvserver's hottest commands (SET
// over a string, HSET over a field, RPUSH then LPOP) in rounds of 50 with a Commit each, as the
// server makes them, on an in-memory file system so that the disk's time does not hide the
// store's: the cost that the bookkeeping of a round (what a failed Commit undoes) adds to a
// mutation shows here.
func BenchmarkFileStoreMutate(b *testing.B) {
	for _, tc := range benchMutations() {
		rounds := tc.rounds
		b.Run(tc.name, func(b *testing.B) {
			f, err := open("/data/log", SyncEverySecond, Options{CompactSize: -1, SyncInterval: time.Hour}, durable.NewMemFS())
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			for _, round := range rounds {
				for _, r := range round {
					f.Mutate(r)
				}
			}
			if err := f.Commit(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, r := range rounds[i%len(rounds)] {
					if err := f.Mutate(r); err != nil {
						b.Fatal(err)
					}
				}
				if i%50 == 49 {
					if err := f.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkFileStoreUndoNote measures what noting undo steps adds to applying mutations to the
// keyspace, side by side in one run: "apply" applies rounds of 50 mutations, "note+apply"
// notes each one's undo step first and forgets them at the end of the round, as a successful
// Commit does. The x-apply metric is the ratio.
func BenchmarkFileStoreUndoNote(b *testing.B) {
	for _, tc := range benchMutations() {
		rounds := tc.rounds
		run := func(b *testing.B, note bool) float64 {
			idx := keyspace.New()
			var u undoLog
			for _, round := range rounds {
				for _, rec := range round {
					idx.Apply(rec)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, rec := range rounds[i%len(rounds)] {
					if note {
						u.note(idx, rec)
					}
					idx.Apply(rec)
				}
				if i%50 == 49 {
					u.reset()
				}
			}
			return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		}
		var applyNs float64
		b.Run(tc.name+"/apply", func(b *testing.B) { applyNs = run(b, false) })
		b.Run(tc.name+"/note+apply", func(b *testing.B) {
			ns := run(b, true)
			if applyNs > 0 {
				b.ReportMetric(ns/applyNs, "x-apply")
			}
		})
	}
}

// BenchmarkFileStoreFailedCommit measures a failed Commit of a round of 50 SETs over a log of
// 100,000 records on the real file system (whose writes fail on demand): the pause that a
// failing disk costs the store's owner per round.
func BenchmarkFileStoreFailedCommit(b *testing.B) {
	fsys := &failingFS{FS: durable.OS}
	f, err := open(filepath.Join(b.TempDir(), "log"), SyncEverySecond, Options{CompactSize: -1}, fsys)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for i := range 100_000 {
		f.Mutate(r(keyspace.OpSet, fmt.Sprint("key:", i%1000), "a sixteen b value"))
	}
	if err := f.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range 50 {
			f.Mutate(r(keyspace.OpSet, fmt.Sprint("key:", i), "a new value"))
		}
		fsys.fail = true
		if err := f.Commit(); !errors.Is(err, errDiskOnFire) {
			b.Fatalf("Commit = %v", err)
		}
		fsys.fail = false
	}
}

var errDiskOnFire = errors.New("disk on fire")

// failingFS is a file system whose files' writes fail while fail is set.
type failingFS struct {
	durable.FS
	fail bool
}

func (f *failingFS) OpenFile(name string, flag int, perm fs.FileMode) (durable.File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return failingFile{file, f}, nil
}

type failingFile struct {
	durable.File
	fs *failingFS
}

func (f failingFile) WriteAt(b []byte, off int64) (int, error) {
	if f.fs.fail {
		return 0, errDiskOnFire
	}
	return f.File.WriteAt(b, off)
}
