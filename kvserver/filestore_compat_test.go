package kvserver

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"ds440/kvserver/filestore"
)

func toStrings(vs [][]byte) []string {
	var out []string
	for _, v := range vs {
		out = append(out, string(v))
	}
	return out
}

func openTest(t *testing.T, path string, policy SyncPolicy, opts FileStoreOptions) *FileStore {
	t.Helper()
	f, err := OpenFileStore(path, policy, opts)
	if err != nil {
		t.Fatalf("OpenFileStore(%s): %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// newFileStoreTest is NewFileStore, closed when the test ends.
func newFileStoreTest(t *testing.T, path string, policy SyncPolicy) KVStore {
	t.Helper()
	s, err := NewFileStore(path, policy)
	if err != nil {
		t.Fatalf("NewFileStore(%s): %v", path, err)
	}
	t.Cleanup(func() { s.(io.Closer).Close() })
	return s
}

// NewFileStore's store commits every mutation before the call returns, and keeps the typed
// keyspace the server's RESP commands need.
func TestNewFileStoreCommitsEachMutation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log")
	s := newFileStoreTest(t, path, SyncAlways)
	for i := range 5 {
		s.Put("k", []byte(fmt.Sprint(i)))
		rep, err := filestore.Check(path)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Records != i+1 {
			t.Fatalf("after Put %d returned, the log holds %d records", i, rep.Records)
		}
	}
	if _, ok := s.(typedStore); !ok {
		t.Fatal("NewFileStore's store lost the typed keyspace")
	}
}

// NewFileStore's store stops at the first mutation it cannot make durable (here: refused by
// a log that was closed under it): that one and every later one change nothing, reads go on,
// and Commit and Close return the failure.
func TestNewFileStoreStopsAtTheFirstFailure(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log")
	s := newFileStoreTest(t, path, SyncEverySecond)
	c := s.(*committing)
	s.Put("k", []byte("kept"))
	if err := c.Commit(); err != nil {
		t.Fatalf("Commit before any failure = %v", err)
	}
	c.FileStore.Close() // the next mutation is refused, as a failed write would be
	s.Put("k", []byte("refused"))
	s.Delete("k")
	if got := toStrings(s.Get("k")); !slices.Equal(got, []string{"kept"}) {
		t.Fatalf("after the failure k = %q, want only the mutation made before it", got)
	}
	if err := c.Commit(); !errors.Is(err, filestore.ErrClosed) {
		t.Fatalf("Commit after the failure = %v, want it", err)
	}
	if err := c.Close(); !errors.Is(err, filestore.ErrClosed) || !errors.Is(c.Close(), filestore.ErrClosed) {
		t.Fatalf("Close after the failure = %v, want it, every time", err)
	}
	g := openTest(t, path, SyncAlways, FileStoreOptions{})
	if got := toStrings(g.Get("k")); !slices.Equal(got, []string{"kept"}) {
		t.Fatalf("reopened: k = %q", got)
	}
}

// The FileStore a server commits once per round reports a refused mutation at the round's
// Commit (so the server drops the round's clients), commits the rest of the round all the
// same, and reports nothing at the next round's Commit.
func TestFileStoreReportsRefusalsAtCommit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log")
	s := openTest(t, path, SyncAlways, FileStoreOptions{})
	s.Put("k", []byte("1"))
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	s.refuse(filestore.ErrTooLarge) // what Put reports of a value too large for a record
	s.Put("k", []byte("2"))
	if err := s.Commit(); !errors.Is(err, filestore.ErrTooLarge) {
		t.Fatalf("Commit of a round with a refused mutation = %v", err)
	}
	if err := s.Commit(); err != nil {
		t.Fatalf("the next round's Commit = %v", err)
	}
	s.FileStore.Close()
	s.Put("k", []byte("3"))
	if err := s.Commit(); !errors.Is(err, filestore.ErrClosed) || len(s.Get("k")) != 2 {
		t.Fatalf("Commit after a Put on a closed store = %v, k = %q", err, s.Get("k"))
	}
	rep, err := filestore.Check(path)
	if err != nil || rep.Records != 2 {
		t.Fatalf("the log holds %+v (%v), want the two committed Puts", rep, err)
	}
}
