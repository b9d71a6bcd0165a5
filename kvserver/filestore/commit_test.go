package filestore

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/durable"
)

func openMem(t *testing.T, fsys *durable.MemFS, policy SyncPolicy, opts Options) *FileStore {
	t.Helper()
	f, err := open("/data/log", policy, opts, fsys)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Mutations are visible at once and reach the log at Commit, with one write and, under
// SyncAlways, one fsync for all of them; Close commits the rest.
func TestFileStoreGroupCommit(t *testing.T) {
	t.Parallel()
	for _, policy := range []SyncPolicy{SyncAlways, SyncEverySecond} {
		fsys := durable.NewMemFS()
		f := openMem(t, fsys, policy, Options{SyncInterval: time.Hour})
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		ops, size := fsys.Ops(), f.log.Size()
		for i := range 10 {
			f.Put(fmt.Sprint("k", i), []byte("v"))
		}
		f.Delete("k0")
		f.Delete("missing")                           // logs nothing
		f.Update("missing", []byte("a"), []byte("b")) // logs nothing
		if fsys.Ops() != ops || f.log.Size() != size {
			t.Fatalf("%v: mutations touched the file before Commit", policy)
		}
		if f.Len("k1") != 1 || f.Len("k0") != 0 {
			t.Fatalf("%v: mutations awaiting Commit are not visible", policy)
		}
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		want := 1 // one write
		if policy == SyncAlways {
			want = 2 // and one fsync
		}
		if got := fsys.Ops() - ops; got != want {
			t.Fatalf("%v: Commit of 11 mutations made %d file operations, want %d", policy, got, want)
		}
		f.Put("uncommitted", []byte("written by Close"))
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		g := openMem(t, fsys.Restart(true), policy, Options{})
		if r := g.Recovery(); r.Records != 12 || g.Len("k0") != 0 || g.Len("k9") != 1 || g.Len("uncommitted") != 1 {
			t.Fatalf("%v: after a power cut: Recovery = %+v, want every mutation replayed", policy, r)
		}
	}
}

// A Commit that cannot write or fsync returns its error and takes the store back to what the
// log holds; the store is not broken for good: the next Commit works.
func TestFileStoreFailedCommitUndoesAndRecovers(t *testing.T) {
	t.Parallel()
	for _, failing := range []int{1, 2} { // the write, the fsync
		fsys := durable.NewMemFS()
		f := openMem(t, fsys, SyncAlways, Options{})
		f.Put("k", []byte("1"))
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		f.Put("k", []byte("lost"))
		f.Put("j", []byte("lost"))
		boom := errors.New("disk on fire")
		fsys.FailAt(fsys.Ops()+failing, boom)
		if err := f.Commit(); !errors.Is(err, boom) {
			t.Fatalf("Commit with a failing operation %d = %v", failing, err)
		}
		if got := f.Get("k"); len(got) != 1 || string(got[0]) != "1" || f.Get("j") != nil {
			t.Fatalf("after a failed Commit: k = %q, j = %q; want the round undone", got, f.Get("j"))
		}
		f.Put("k", []byte("2"))
		if err := f.Commit(); err != nil {
			t.Fatalf("Commit after a failure = %v", err)
		}
		f.Close()
		g := openMem(t, fsys.Restart(true), SyncAlways, Options{})
		if got := g.Get("k"); !slices.Equal(valueStrings(got), []string{"1", "2"}) || g.Get("j") != nil {
			t.Fatalf("after reopening: k = %q, j = %q", got, g.Get("j"))
		}
	}
}

// Under SyncEverySecond the log is fsynced in the background when something was written, and
// a failed background fsync is reported by the next Commit, once.
func TestFileStoreEverySecond(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		fsys := durable.NewMemFS()
		f, err := open("/data/log", SyncEverySecond, Options{SyncInterval: time.Second}, fsys)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.Put("k", []byte("1"))
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		if g := reopenAfterPowerCut(t, fsys); g.Len("k") != 0 {
			t.Fatal("everysec fsynced inside Commit")
		}
		time.Sleep(1500 * time.Millisecond) // fake time (synctest): past the once-a-second fsync
		synctest.Wait()
		if g := reopenAfterPowerCut(t, fsys); g.Len("k") != 1 {
			t.Fatal("a second later the Put is still not durable")
		}
		boom := errors.New("fsync failed")
		f.Put("k", []byte("2"))
		f.Commit()
		fsys.FailAt(fsys.Ops()+1, boom)
		time.Sleep(time.Second) // fake time (synctest): past the once-a-second fsync
		synctest.Wait()
		f.Put("k", []byte("3"))
		if err := f.Commit(); !errors.Is(err, boom) {
			t.Fatalf("Commit after a failed background fsync = %v", err)
		}
		if f.Len("k") != 3 {
			t.Fatal("a background failure undid the Commit that reported it")
		}
		if err := f.Commit(); err != nil {
			t.Fatalf("the failure was reported twice: %v", err)
		}
	})
}

func reopenAfterPowerCut(t *testing.T, fsys *durable.MemFS) *FileStore {
	t.Helper()
	g, err := open("/data/log", SyncAlways, Options{}, fsys.Restart(true))
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	return g
}

// After Close, mutations are ignored, reads still answer, and Close returns the same result.
func TestFileStoreClose(t *testing.T) {
	t.Parallel()
	f := openMem(t, durable.NewMemFS(), SyncAlways, Options{})
	f.Put("k", []byte("v"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f.Put("k", []byte("after close"))
	if f.Len("k") != 1 || f.Close() != nil || !errors.Is(f.Commit(), ErrClosed) || !errors.Is(f.Compact(), ErrClosed) {
		t.Fatal("a closed store changed or did not say it is closed")
	}
}
