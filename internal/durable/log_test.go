package durable

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

const magic = "test\x01"

func opts(fsys FS) Options { return Options{Magic: magic, FS: fsys} }

func payloads(n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, fmt.Appendf(nil, "record-%d-%s", i, bytes.Repeat([]byte{byte(i)}, i%7)))
	}
	return out
}

func readAll(t *testing.T, l *Log) [][]byte {
	t.Helper()
	var out [][]byte
	for p, err := range l.Records() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, slices.Clone(p))
	}
	return out
}

func mustOpen(t *testing.T, path string, o Options) *Log {
	t.Helper()
	l, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAppendCommitReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log")
	l := mustOpen(t, path, opts(nil))
	want := payloads(10)
	for i, p := range want {
		if err := l.Append(p); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := l.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil { // commits the rest
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := l.Append(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
	l = mustOpen(t, path, opts(nil))
	defer l.Close()
	if got := readAll(t, l); !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("records = %q, want %q", got, want)
	}
	if r := l.Recovery(); r.Records != len(want) || r.Cut != 0 {
		t.Fatalf("Recovery = %+v", r)
	}
}

func TestOpenRefusesOtherFiles(t *testing.T) {
	t.Parallel()
	fsys := NewMemFS()
	if err := WriteFile(fsys, "/d/other", []byte("not a log at all")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("/d/other", opts(fsys)); !errors.Is(err, ErrNotLog) {
		t.Fatalf("Open = %v, want ErrNotLog", err)
	}
	l := mustOpen(t, "/d/log", opts(fsys))
	defer l.Close()
	if _, err := Open("/d/log", opts(fsys)); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if _, err := Open("/d/x", Options{Sync: 7, FS: fsys}); err == nil {
		t.Fatal("Open accepted an invalid sync policy")
	}
	if err := l.Append(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	small := Options{Magic: magic, FS: fsys, MaxRecord: 4}
	s := mustOpen(t, "/d/small", small)
	defer s.Close()
	if err := s.Append(make([]byte, 5)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append over MaxRecord = %v", err)
	}
}

// logBytes returns the file of a log holding ps.
func logBytes(ps ...[]byte) []byte {
	b := []byte(magic)
	for _, p := range ps {
		b = AppendRecord(b, p)
	}
	return b
}

func TestTornTailIsCutAndKept(t *testing.T) {
	t.Parallel()
	want := payloads(5)
	full := logBytes(want...)
	last := len(logBytes(want[:4]...))
	for cut := last + 1; cut < len(full); cut++ {
		fsys := NewMemFS()
		if err := WriteFile(fsys, "/d/log", full[:cut]); err != nil {
			t.Fatal(err)
		}
		l := mustOpen(t, "/d/log", opts(fsys))
		if got := readAll(t, l); !slices.EqualFunc(got, want[:4], bytes.Equal) {
			t.Fatalf("cut at %d: records = %q", cut, got)
		}
		r := l.Recovery()
		if r.Cut != int64(cut-last) || !errors.Is(r.Reason, ErrTornRecord) || r.Size != int64(last) {
			t.Fatalf("cut at %d: Recovery = %+v", cut, r)
		}
		kept, err := ReadFile(fsys, r.TornPath)
		if err != nil || !bytes.Equal(kept, full[last:cut]) {
			t.Fatalf("cut at %d: torn copy %s = %q, %v", cut, r.TornPath, kept, err)
		}
		// The log goes on from its last intact record.
		l.Append([]byte("after"))
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l = mustOpen(t, "/d/log", opts(fsys))
		if got := readAll(t, l); len(got) != 5 || string(got[4]) != "after" {
			t.Fatalf("cut at %d: after reopening, records = %q", cut, got)
		}
		l.Close()
	}
}

func TestDamageInTheMiddleRefusesAndCheckRepairs(t *testing.T) {
	t.Parallel()
	want := payloads(6)
	b := logBytes(want...)
	off := len(logBytes(want[:2]...))
	b[off+HeaderSize] ^= 0xff // a payload byte of record 2
	fsys := NewMemFS()
	if err := WriteFile(fsys, "/d/log", b); err != nil {
		t.Fatal(err)
	}
	_, err := Open("/d/log", opts(fsys))
	var de *DamageError
	if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) || !errors.Is(err, ErrChecksum) {
		t.Fatalf("Open = %v, want a *DamageError for a checksum", err)
	}
	if de.Offset != int64(off) || de.Next != int64(len(logBytes(want[:3]...))) || de.ValidRecords != 3 {
		t.Fatalf("DamageError = %+v", de)
	}
	if got, _ := ReadFile(fsys, "/d/log"); !bytes.Equal(got, b) {
		t.Fatal("Open changed a damaged log")
	}
	rep, err := Check("/d/log", opts(fsys))
	if err != nil || rep.Records != 5 || len(rep.Damage) != 1 || rep.Intact() {
		t.Fatalf("Check = %+v, %v", rep, err)
	}
	if _, err := Repair("/d/log", "/d/fixed", opts(fsys)); err != nil {
		t.Fatal(err)
	}
	l := mustOpen(t, "/d/fixed", opts(fsys))
	defer l.Close()
	wantFixed := slices.Delete(slices.Clone(want), 2, 3)
	if got := readAll(t, l); !slices.EqualFunc(got, wantFixed, bytes.Equal) {
		t.Fatalf("repaired records = %q", got)
	}
}

func TestCheckRejectsPayloads(t *testing.T) {
	t.Parallel()
	fsys := NewMemFS()
	o := opts(fsys)
	o.Check = func(p []byte) error {
		if bytes.HasPrefix(p, []byte("bad")) {
			return errors.New("bad payload")
		}
		return nil
	}
	if err := WriteFile(fsys, "/d/log", logBytes([]byte("good"), []byte("bad one"))); err != nil {
		t.Fatal(err)
	}
	l := mustOpen(t, "/d/log", o)
	defer l.Close()
	if r := l.Recovery(); r.Records != 1 || !errors.Is(r.Reason, ErrBadRecord) {
		t.Fatalf("Recovery = %+v", r)
	}
}

// A failed write or fsync discards the Commit's records and cuts what reached the file; the
// log goes on with the next Commit and never holds what was not acknowledged.
func TestFailedCommitIsNotSticky(t *testing.T) {
	t.Parallel()
	for _, failing := range []string{"write", "fsync"} {
		fsys := NewMemFS()
		l := mustOpen(t, "/d/log", opts(fsys))
		l.Append([]byte("one"))
		if err := l.Commit(); err != nil {
			t.Fatal(err)
		}
		next := fsys.Ops() + 1 // the write
		if failing == "fsync" {
			next++
		}
		boom := errors.New("disk says no")
		fsys.FailAt(next, boom)
		l.Append([]byte("a longer record that is lost"))
		if err := l.Commit(); !errors.Is(err, boom) {
			t.Fatalf("%s: Commit = %v, want the fault", failing, err)
		}
		if got := readFile(t, fsys, "/d/log"); !bytes.Equal(got, logBytes([]byte("one"))) {
			t.Fatalf("%s: after the failed Commit the file holds %q, want only the committed record", failing, got)
		}
		l.Append([]byte("two"))
		if err := l.Commit(); err != nil {
			t.Fatalf("%s: Commit after a failure = %v", failing, err)
		}
		want := [][]byte{[]byte("one"), []byte("two")}
		if got := readAll(t, l); !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("%s: records = %q", failing, got)
		}
		l.Close()
		l = mustOpen(t, "/d/log", opts(fsys))
		if got := readAll(t, l); !slices.EqualFunc(got, want, bytes.Equal) || l.Recovery().Cut != 0 {
			t.Fatalf("%s: reopened: %q, %+v", failing, got, l.Recovery())
		}
		l.Close()
	}
}

// The background fsync of SyncInterval runs only when something was written, and a failure
// is returned once by the next Commit, which still writes its records.
func TestSyncInterval(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		fsys := NewMemFS()
		o := opts(fsys)
		o.Sync, o.Interval = SyncInterval, 100*time.Millisecond
		l := mustOpen(t, "/d/log", o)
		l.Append([]byte("a"))
		if err := l.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := fsys.Restart(true); len(readFile(t, got, "/d/log")) != len(magic) {
			t.Fatal("SyncInterval fsynced inside Commit")
		}
		time.Sleep(150 * time.Millisecond) // fake time (synctest): let the background fsync interval pass
		synctest.Wait()
		if got := readFile(t, fsys.Restart(true), "/d/log"); !bytes.Equal(got, logBytes([]byte("a"))) {
			t.Fatalf("after an interval the durable log is %q", got)
		}
		ops := fsys.Ops()
		time.Sleep(time.Second) // fake time (synctest): let the background fsync interval pass
		synctest.Wait()
		if fsys.Ops() != ops {
			t.Fatal("the background fsync ran with nothing written")
		}
		boom := errors.New("fsync failed")
		l.Append([]byte("b"))
		l.Commit()
		fsys.FailAt(fsys.Ops()+1, boom)
		time.Sleep(150 * time.Millisecond) // fake time (synctest): let the background fsync interval pass
		synctest.Wait()
		l.Append([]byte("c"))
		if err := l.Commit(); !errors.Is(err, ErrBackgroundSync) || !errors.Is(err, boom) {
			t.Fatalf("Commit after a failed background fsync = %v", err)
		}
		if err := l.Commit(); err != nil {
			t.Fatalf("the failure was reported twice: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, fsys.Restart(true), "/d/log"); !bytes.Equal(got, logBytes([]byte("a"), []byte("b"), []byte("c"))) {
			t.Fatalf("after Close the durable log is %q", got)
		}
	})
}

func readFile(t *testing.T, fsys FS, name string) []byte {
	t.Helper()
	b, err := ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteFileIsAtomicAtEveryPoint(t *testing.T) {
	t.Parallel()
	old, new := []byte("old content"), []byte("the new content, longer")
	for k := 1; ; k++ {
		fsys := NewMemFS()
		if err := WriteFile(fsys, "/d/f", old); err != nil {
			t.Fatal(err)
		}
		fsys.CrashAt(fsys.Ops() + k)
		err := WriteFile(fsys, "/d/f", new)
		for _, power := range []bool{false, true} {
			got := readFile(t, fsys.Restart(power), "/d/f")
			if !bytes.Equal(got, old) && !bytes.Equal(got, new) {
				t.Fatalf("crash at op %d (power cut %v): file holds %q", k, power, got)
			}
			if err == nil && !bytes.Equal(got, new) {
				t.Fatalf("crash at op %d (power cut %v): WriteFile succeeded but the file holds %q", k, power, got)
			}
		}
		if !fsys.Crashed() {
			break
		}
	}
}

func TestMemFSRestart(t *testing.T) {
	t.Parallel()
	fsys := NewMemFS()
	f, err := fsys.OpenFile("/d/a", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("synced"), 0)
	f.Sync()
	f.WriteAt([]byte(" and not"), 6)
	f.Close()
	if _, err := fsys.Restart(true).OpenFile("/d/a", os.O_RDONLY, 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file whose directory was never synced survived a power cut: %v", err)
	}
	fsys.SyncDir("/d")
	if got := readFile(t, fsys.Restart(true), "/d/a"); string(got) != "synced" {
		t.Fatalf("after a power cut: %q", got)
	}
	if got := readFile(t, fsys.Restart(false), "/d/a"); string(got) != "synced and not" {
		t.Fatalf("after a process crash: %q", got)
	}
}

// failingDirSync is a MemFS whose directory fsyncs fail while fail is set.
type failingDirSync struct {
	*MemFS
	fail bool
}

func (f *failingDirSync) SyncDir(dir string) error {
	if f.fail {
		return errors.New("directory fsync failed")
	}
	return f.MemFS.SyncDir(dir)
}

// If the directory fsync after a rewrite's rename fails, the new file is the log, and no
// Commit is acknowledged until that fsync has succeeded: a power cut could otherwise bring back
// the old log without the records committed to the new one.
func TestReplaceRetriesDirSync(t *testing.T) {
	t.Parallel()
	fsys := &failingDirSync{MemFS: NewMemFS()}
	l := mustOpen(t, "/d/log", opts(fsys))
	defer l.Close()
	l.Append([]byte("old"))
	if err := l.Commit(); err != nil {
		t.Fatal(err)
	}
	rw, err := l.BeginRewrite()
	if err != nil {
		t.Fatal(err)
	}
	rw.Append([]byte("rewritten"))
	fsys.fail = true
	if err := l.Replace(rw); err != nil {
		t.Fatalf("Replace = %v; the rename was done", err)
	}
	if err := rw.Release(); err != nil || rw.Release() != nil {
		t.Fatalf("Release = %v", err)
	}
	l.Append([]byte("new"))
	if err := l.Commit(); err == nil {
		t.Fatal("Commit succeeded while the rename is not durable")
	}
	fsys.fail = false
	l.Append([]byte("new"))
	if err := l.Commit(); err != nil {
		t.Fatal(err)
	}
	after := fsys.Restart(true)
	g := mustOpen(t, "/d/log", opts(after))
	defer g.Close()
	if got := readAll(t, g); !slices.EqualFunc(got, [][]byte{[]byte("rewritten"), []byte("new")}, bytes.Equal) {
		t.Fatalf("after a power cut the log holds %q", got)
	}
}

func TestReplaceAll(t *testing.T) {
	t.Parallel()
	want := [][]byte{[]byte("x"), []byte("y")}
	for k := 1; ; k++ {
		fsys := NewMemFS()
		l := mustOpen(t, "/d/log", opts(fsys))
		old := payloads(3)
		for _, p := range old {
			l.Append(p)
		}
		if err := l.Commit(); err != nil {
			t.Fatal(err)
		}
		fsys.CrashAt(fsys.Ops() + k)
		err := l.ReplaceAll(slices.Values(want))
		if err == nil {
			l.Append([]byte("pending"))
			err = l.Commit()
		}
		l.Close()
		after := mustOpen(t, "/d/log", opts(fsys.Restart(true)))
		got := readAll(t, after)
		after.Close()
		switch {
		case err == nil && !slices.EqualFunc(got, append(want, []byte("pending")), bytes.Equal):
			t.Fatalf("crash at op %d: ReplaceAll and Commit succeeded, log holds %q", k, got)
		case !slices.EqualFunc(got, old, bytes.Equal) && !slices.EqualFunc(got, want, bytes.Equal) &&
			!slices.EqualFunc(got, append(want, []byte("pending")), bytes.Equal):
			t.Fatalf("crash at op %d: log holds %q, neither old nor new", k, got)
		}
		if !fsys.Crashed() {
			break
		}
	}
}

// slowSyncFS holds every fsync of the log's first file, once armed, until release is closed,
// as a busy disk does.
type slowSyncFS struct {
	*MemFS
	armed   chan struct{} // closed to arm
	syncing chan struct{} // receives when a held fsync begins
	release chan struct{}
}

func (s *slowSyncFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := s.MemFS.OpenFile(name, flag, perm)
	if err != nil || name != "/d/log" {
		return f, err
	}
	return slowSyncFile{f, s}, nil
}

type slowSyncFile struct {
	File
	s *slowSyncFS
}

func (f slowSyncFile) Sync() error {
	select {
	case <-f.s.armed:
		f.s.syncing <- struct{}{}
		<-f.s.release
	default:
	}
	return f.File.Sync()
}

// Under SyncInterval, Replace waits for no fsync: not for the old file's background fsync
// under way (on a busy disk it can take long, and the owner is the server's loop), nor for the
// new file's and the directory's, which the new background fsync makes at once.
func TestReplaceUnderSyncIntervalWaitsForNoFsync(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		fsys := &slowSyncFS{MemFS: NewMemFS(), armed: make(chan struct{}), syncing: make(chan struct{}), release: make(chan struct{})}
		o := opts(fsys)
		o.Sync, o.Interval = SyncInterval, 100*time.Millisecond
		l := mustOpen(t, "/d/log", o)
		close(fsys.armed)
		l.Append([]byte("a"))
		if err := l.Commit(); err != nil {
			t.Fatal(err)
		}
		rw, err := l.BeginRewrite()
		if err != nil {
			t.Fatal(err)
		}
		if err := rw.Append([]byte("a")); err != nil {
			t.Fatal(err)
		}
		<-fsys.syncing // the old file's background fsync has begun, and holds
		l.Append([]byte("b"))
		if err := l.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := l.Replace(rw); err != nil { // waiting for the held fsync would deadlock here
			t.Fatal(err)
		}
		synctest.Wait() // no time passes: the new log's first fsync is not left to the interval
		if got := readFile(t, fsys.Restart(true), "/d/log"); !bytes.Equal(got, logBytes([]byte("a"), []byte("b"))) {
			t.Fatalf("after Replace the durable log is %q", got)
		}
		close(fsys.release)
		if err := rw.Release(); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
