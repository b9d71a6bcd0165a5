package filestore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"ds440/internal/durable"

	"ds440/kvserver/internal/keyspace"
)

// crashRounds is a workload in rounds, each committed as a server commits a round of requests:
// overwrites, updates, prepends, deletes and clears, so that rewrites have dead records to drop.
func crashRounds() [][]mutation {
	muts := churn(60)
	var rounds [][]mutation
	for len(muts) > 0 {
		n := min(3, len(muts))
		rounds = append(rounds, muts[:n])
		muts = muts[n:]
	}
	return rounds
}

// runUntilCrash opens a FileStore on fsys and commits rounds until something fails, rewriting
// the log by itself (a small CompactSize) and once on demand. It returns how many rounds were
// acknowledged (committed without error).
func runUntilCrash(fsys durable.FS, policy SyncPolicy, rounds [][]mutation) (acked int) {
	f, err := open("/data/log", policy, Options{CompactSize: 1 << 10}, fsys)
	if err != nil {
		return 0
	}
	defer f.Close()
	for i, round := range rounds {
		for _, m := range round {
			if m.applyTo(f) != nil {
				return acked
			}
		}
		if f.Commit() != nil {
			return acked
		}
		acked++
		if j := f.rewrite; j != nil && i%4 == 0 {
			j.wait() // let the background rewrite reach its next step at the next Commit
		}
		if i == len(rounds)/2 && f.Compact() != nil {
			return acked
		}
	}
	return acked
}

// Crash the process (and, under SyncAlways, the machine) at every write, fsync, truncate,
// rename and directory fsync of a workload that rewrites its log beside the store, reopen what
// is left, and check that every acknowledged round is there: the store holds the rounds up to
// the last acknowledged one and possibly some mutations of the next (in flight when the crash
// came: a write cut short keeps a prefix of its records).
func TestFileStoreCrashAtEveryPoint(t *testing.T) {
	t.Parallel()
	rounds := crashRounds()
	for _, policy := range []SyncPolicy{SyncAlways, SyncEverySecond} {
		t.Run(policy.String(), func(t *testing.T) {
			t.Parallel()
			for k := 1; ; k++ {
				fsys := durable.NewMemFS()
				fsys.CrashAt(k)
				acked := runUntilCrash(fsys, policy, rounds)
				if !fsys.Crashed() {
					if acked != len(rounds) {
						t.Fatalf("without a crash only %d of %d rounds were acknowledged", acked, len(rounds))
					}
					if k < 100 {
						t.Fatalf("the workload made only %d file operations", k-1)
					}
					return
				}
				for _, power := range []bool{false, true} {
					if power && policy != SyncAlways {
						continue // everysec may lose the last second to a power cut by design
					}
					g, err := open("/data/log", policy, Options{CompactSize: -1}, fsys.Restart(power))
					if err != nil {
						t.Fatalf("crash at op %d (power cut %v): reopen: %v", k, power, err)
					}
					if !holdsPrefix(g.index, rounds, acked) {
						t.Fatalf("crash at op %d (power cut %v): after %d acknowledged rounds the store holds %s",
							k, power, acked, dump(g.index))
					}
					g.Close()
				}
			}
		})
	}
}

// holdsPrefix reports whether m is the state after the first acked rounds and a prefix of
// the round after them.
func holdsPrefix(m *keyspace.Store, rounds [][]mutation, acked int) bool {
	ref := memRef{keyspace.New()}
	for _, r := range rounds[:acked] {
		for _, mu := range r {
			mu.applyTo(ref)
		}
	}
	if sameState(m, ref.Store) {
		return true
	}
	if acked == len(rounds) {
		return false
	}
	for _, mu := range rounds[acked] {
		mu.applyTo(ref)
		if sameState(m, ref.Store) {
			return true
		}
	}
	return false
}

// sameState reports whether two stores hold the same keys with the same values.
func sameState(a, b *keyspace.Store) bool {
	if a.Keys() != b.Keys() {
		return false
	}
	same := true
	a.ForEach(func(k string, _ *keyspace.Entry) {
		same = same && slices.EqualFunc(a.Get(k), b.Get(k), bytes.Equal)
	})
	return same
}

func dump(m *keyspace.Store) string {
	var keys []string
	m.ForEach(func(k string, _ *keyspace.Entry) { keys = append(keys, k) })
	slices.Sort(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q ", k, m.Get(k))
	}
	return b.String()
}

// A log written by kvserver before the log moved to internal/durable (main at 0ce2584, through
// redis-cli: RPUSH, LPUSH, KVUPDATE, RPOP, SET, APPEND, HSET, HDEL, SADD, SREM, ZADD, DEL)
// still loads, every type intact.
func TestFileStoreLoadsOlderLogs(t *testing.T) {
	t.Parallel()
	old, err := os.ReadFile("testdata/main-0ce2584.aof")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	f := openTest(t, path, SyncAlways, Options{})
	if r := f.Recovery(); r.Cut != 0 || r.Records == 0 {
		t.Fatalf("Recovery = %+v", r)
	}
	if got := valueStrings(f.Get("list")); !slices.Equal(got, []string{"z", "a", "B"}) {
		t.Errorf("list = %q", got)
	}
	if got := valueStrings(f.Get("str")); !slices.Equal(got, []string{"hello world"}) || f.Lookup("str").Kind != keyspace.KindString {
		t.Errorf("str = %q", got)
	}
	if h := f.Lookup("h"); h == nil || len(h.Hash) != 1 || string(h.Hash["f1"]) != "v1" {
		t.Errorf("h = %+v", h)
	}
	if s := f.Lookup("s"); s == nil || len(s.Set) != 2 {
		t.Errorf("s = %+v", s)
	}
	if z := f.Lookup("z"); z == nil || z.ZSet.Len() != 2 {
		t.Errorf("z = %+v", z)
	}
	if f.Lookup("gone") != nil || f.Keys() != 7 {
		t.Errorf("gone = %+v, %d keys, want 7", f.Lookup("gone"), f.Keys())
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, old) {
		t.Error("opening an intact log changed it")
	}
}
