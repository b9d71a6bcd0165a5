package filestore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ds440/internal/durable"
	"ds440/internal/testutil"
)

// churn is a workload that overwrites, updates, prepends, deletes and clears, so that most of
// its log is dead.
func churn(rounds int) []mutation {
	var ms []mutation
	for i := range rounds {
		k := fmt.Sprint("key-", i%7)
		ms = append(ms,
			mutation{"put", k, fmt.Sprint("v", i), ""},
			mutation{"put", k, "same", ""},
			mutation{"update", k, "same", fmt.Sprint("u", i)},
			mutation{"prepend", k, fmt.Sprint("p", i), ""},
		)
		if i%3 == 0 {
			ms = append(ms, mutation{"delete", fmt.Sprint("key-", (i+1)%7), "", ""})
		}
		if i%50 == 49 {
			ms = append(ms, mutation{"clear", "", "", ""})
		}
	}
	return append(ms, mutation{"put", "after-clear", "x", ""})
}

func TestFileStoreCompact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	muts := churn(120)
	want := memoryAfter(muts)
	f := openTest(t, path, SyncAlways, Options{CompactSize: -1})
	for _, m := range muts {
		m.applyTo(f)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	before := f.log.Size()
	if err := f.Compact(); err != nil {
		t.Fatal(err)
	}
	if f.log.Size() >= before/4 {
		t.Fatalf("Compact shrank the log from %d to %d bytes only", before, f.log.Size())
	}
	requireSame(t, f, want, muts)
	if _, err := os.Stat(path + ".rewrite"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the rewrite's temporary file is left: %v", err)
	}
	if _, err := Open(path, SyncAlways, Options{}); !errors.Is(err, ErrLogLocked) {
		t.Fatalf("the rewritten log is not locked: second open err = %v", err)
	}
	more := []mutation{{"put", "key-1", "after compaction", ""}, {"delete", "key-2", "", ""}}
	for _, m := range more {
		m.applyTo(f)
	}
	f.Close()

	all := append(muts, more...)
	g := openTest(t, path, SyncAlways, Options{})
	requireSame(t, g, memoryAfter(all), all)
	if r := g.Recovery(); r.Cut != 0 {
		t.Fatalf("the rewritten log replayed with a cut: %+v", r)
	}
}

func TestFileStoreCompactsByItself(t *testing.T) {
	testutil.CheckGoroutines(t)
	for _, policy := range []SyncPolicy{SyncAlways, SyncEverySecond} {
		t.Run(policy.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			muts := churn(400)
			const limit = 4 << 10
			f := openTest(t, path, policy, Options{CompactSize: limit, SyncInterval: time.Millisecond})
			rewrites := 0
			for i, m := range muts {
				m.applyTo(f)
				if i%10 == 0 {
					if err := f.Commit(); err != nil {
						t.Fatal(err)
					}
				}
				if f.rewrite != nil {
					drainRewrite(t, f)
					rewrites++
				}
			}
			if rewrites == 0 || f.log.Size() > 3*limit {
				t.Fatalf("%d rewrites; the log ends at %d bytes with a %d-byte threshold", rewrites, f.log.Size(), limit)
			}
			requireSame(t, f, memoryAfter(muts), muts)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			g := openTest(t, path, policy, Options{})
			requireSame(t, g, memoryAfter(muts), muts)
			g.Close()
		})
	}
}

func TestFileStoreRemovesAnInterruptedRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path+".rewrite", []byte(logMagic+"half a rewrite"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := openTest(t, path, SyncAlways, Options{})
	f.Close()
	if _, err := os.Stat(path + ".rewrite"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the interrupted rewrite is still there: %v", err)
	}
}

// BenchmarkFileStoreCompact rewrites a log of 10 SET-like overwrites (Delete, then Put) of each
// of 10 000 keys: 200 000 records, of which the last 10 000 Puts are live.
func BenchmarkFileStoreCompact(b *testing.B) {
	f, err := Open(filepath.Join(b.TempDir(), "log"), SyncEverySecond, Options{CompactSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	value := []byte("a sixteen b valu")
	fill := func() {
		for range 10 {
			for k := range 10_000 {
				key := fmt.Sprint("key-", k)
				f.Delete(key)
				f.Put(key, value)
			}
		}
		if err := f.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	fill()
	logBytes := f.log.Size()
	for b.Loop() {
		b.StopTimer()
		if f.log.Size() < logBytes {
			fill()
		}
		b.StartTimer()
		if err := f.Compact(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(logBytes)/1e6, "MB-before")
	b.ReportMetric(float64(f.log.Size())/1e6, "MB-after")
}

// drainRewrite waits for the store's background rewrite, if any, to end, committing between
// its phases as a server does between rounds, so a test does not depend on how fast it runs.
func drainRewrite(t *testing.T, f *FileStore) {
	t.Helper()
	for f.rewrite != nil {
		if err := f.rewrite.wait(); err != nil {
			t.Fatal(err)
		}
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// gatedFS is a MemFS whose writes to the rewrite's file wait for gate to be closed, as a slow
// disk would make them.
type gatedFS struct {
	*durable.MemFS
	gate chan struct{}
}

func (g *gatedFS) OpenFile(name string, flag int, perm fs.FileMode) (durable.File, error) {
	f, err := g.MemFS.OpenFile(name, flag, perm)
	if err != nil || !strings.HasSuffix(name, ".rewrite") {
		return f, err
	}
	return gatedFile{f, g.gate}, nil
}

type gatedFile struct {
	durable.File
	gate chan struct{}
}

func (f gatedFile) WriteAt(b []byte, off int64) (int, error) {
	<-f.gate
	return f.File.WriteAt(b, off)
}

// The store's owner never waits for a rewrite: while the rewrite's writes are stuck, Commits
// go on and return; once they go through, the next Commits finish the rewrite, and the new log
// holds everything, including what was committed meanwhile.
func TestFileStoreRewriteDoesNotBlockCommits(t *testing.T) {
	t.Parallel()
	fsys := &gatedFS{MemFS: durable.NewMemFS(), gate: make(chan struct{})}
	f, err := open("/data/log", SyncAlways, Options{CompactSize: 4 << 10}, fsys)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	muts := churn(100)
	i := 0
	for ; f.rewrite == nil; i++ {
		muts[i].applyTo(f)
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for ; i < len(muts); i++ { // the rewrite is stuck on its first write
		muts[i].applyTo(f)
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if f.rewrite == nil || !f.rewrite.busy {
		t.Fatal("the rewrite ended while its writes could not")
	}
	before := f.log.Size()
	close(fsys.gate)
	drainRewrite(t, f)
	if after := f.log.Size(); after >= before {
		t.Fatalf("the rewrite left the log at %d bytes, from %d", after, before)
	}
	f.Close()
	g, err := open("/data/log", SyncAlways, Options{CompactSize: -1}, fsys.Restart(true))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	requireSame(t, g, memoryAfter(muts), muts)
}
