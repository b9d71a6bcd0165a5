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

// A Commit that cannot write (or, under SyncAlways, fsync) returns its error and rolls the
// store back to what the log holds, under either policy; the store is not broken for good: the
// next Commit works, and a restart, after a process crash or (SyncAlways) a power cut, finds
// exactly the committed mutations.
func TestFileStoreFailedCommitRollsBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy  SyncPolicy
		failing int // the operation of the Commit that fails: 1 the write, 2 the fsync
	}{{SyncAlways, 1}, {SyncAlways, 2}, {SyncEverySecond, 1}} {
		fsys := durable.NewMemFS()
		f := openMem(t, fsys, tc.policy, Options{SyncInterval: time.Hour})
		mustPut(t, f, "k", "1")
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		mustPut(t, f, "k", "lost")
		mustPut(t, f, "j", "lost")
		boom := errors.New("disk on fire")
		fsys.FailAt(fsys.Ops()+tc.failing, boom)
		if err := f.Commit(); !errors.Is(err, boom) {
			t.Fatalf("%v: Commit with a failing operation %d = %v", tc.policy, tc.failing, err)
		}
		if got := f.Get("k"); len(got) != 1 || string(got[0]) != "1" || f.Get("j") != nil {
			t.Fatalf("%v: after a failed Commit: k = %q, j = %q; want the round rolled back", tc.policy, got, f.Get("j"))
		}
		mustPut(t, f, "k", "2")
		if err := f.Commit(); err != nil {
			t.Fatalf("%v: Commit after a failure = %v", tc.policy, err)
		}
		power := tc.policy == SyncAlways // everysec may lose the last second to a power cut
		g := openMem(t, fsys.Restart(power), tc.policy, Options{})
		if got := g.Get("k"); !slices.Equal(valueStrings(got), []string{"1", "2"}) || g.Get("j") != nil {
			t.Fatalf("%v: after reopening: k = %q, j = %q", tc.policy, got, g.Get("j"))
		}
	}
}

func mustPut(t *testing.T, f *FileStore, key, value string) {
	t.Helper()
	if err := f.Put(key, []byte(value)); err != nil {
		t.Fatalf("Put(%s, %s) = %v", key, value, err)
	}
}

// A Commit that fails because the process "crashed" in the middle of its write (every later
// file operation fails, reads included) rolls the store back all the same: the rollback reads
// nothing from the log. Every later Commit fails and rolls its round back too, so reads never
// show a mutation the log lacks.
func TestFileStoreRollbackNeedsNoDisk(t *testing.T) {
	t.Parallel()
	for _, policy := range []SyncPolicy{SyncAlways, SyncEverySecond} {
		fsys := durable.NewMemFS()
		f, err := open("/data/log", policy, Options{SyncInterval: time.Hour}, fsys)
		if err != nil {
			t.Fatal(err)
		}
		mustPut(t, f, "k", "1")
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		mustPut(t, f, "k", "lost")
		fsys.CrashAt(fsys.Ops() + 1)
		if err := f.Commit(); !errors.Is(err, durable.ErrCrashed) {
			t.Fatalf("%v: Commit at a crash = %v", policy, err)
		}
		if got := valueStrings(f.Get("k")); !slices.Equal(got, []string{"1"}) {
			t.Fatalf("%v: after the crashed Commit k = %q, want the round rolled back", policy, got)
		}
		mustPut(t, f, "k", "later")
		if err := f.Commit(); !errors.Is(err, durable.ErrCrashed) {
			t.Fatalf("%v: Commit on a crashed disk = %v", policy, err)
		}
		if got := valueStrings(f.Get("k")); !slices.Equal(got, []string{"1"}) {
			t.Fatalf("%v: after a second failed Commit k = %q", policy, got)
		}
		f.Close()
		// The crash kept half of the write, which reopening cuts as a torn tail.
		g := openMem(t, fsys.Restart(false), policy, Options{})
		if got := valueStrings(g.Get("k")); !slices.Equal(got, []string{"1"}) {
			t.Fatalf("%v: after the crash k = %q", policy, got)
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
		if err := f.Commit(); !errors.Is(err, boom) || !errors.Is(err, ErrSyncFailed) {
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

// After Close, every mutation fails with ErrClosed and changes nothing, reads still answer,
// and Close returns the same result.
func TestFileStoreClose(t *testing.T) {
	t.Parallel()
	f := openMem(t, durable.NewMemFS(), SyncAlways, Options{})
	mustPut(t, f, "k", "v")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Put":     f.Put("k", []byte("after close")),
		"Prepend": f.Prepend("k", []byte("after close")),
		"Update":  f.Update("k", []byte("v"), []byte("after close")),
		"Delete":  f.Delete("k"),
		"Clear":   f.Clear(),
		"Commit":  f.Commit(),
		"Compact": f.Compact(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if got := valueStrings(f.Get("k")); !slices.Equal(got, []string{"v"}) || f.Close() != nil {
		t.Fatalf("a closed store changed (k = %q) or Close changed its result", got)
	}
}
