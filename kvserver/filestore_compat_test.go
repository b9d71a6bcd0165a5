package kvserver

import (
	"fmt"
	"path/filepath"
	"testing"
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

// NewFileStore's store commits every mutation before the call returns, and keeps the typed
// keyspace the server's RESP commands need.
func TestNewFileStoreCommitsEachMutation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log")
	s, err := NewFileStore(path, SyncAlways)
	if err != nil {
		t.Fatal(err)
	}
	defer s.(interface{ Close() error }).Close()
	for i := range 5 {
		s.Put("k", []byte(fmt.Sprint(i)))
		rep, err := CheckLog(path)
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
