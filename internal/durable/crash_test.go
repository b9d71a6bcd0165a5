package durable

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// workload appends and commits records, rewrites the log halfway (keeping only the records
// whose number is odd, as a user's compaction would, plus the ones committed meanwhile), and
// returns the records acknowledged so far and the records a reader may see. It stops at the
// first error, as a crashed process would.
func workload(fsys FS) (acked [][]byte, err error) {
	l, err := Open("/d/log", opts(fsys))
	if err != nil {
		return nil, err
	}
	defer l.Close()
	commit := func(ps ...[]byte) error {
		for _, p := range ps {
			if err := l.Append(p); err != nil {
				return err
			}
		}
		if err := l.Commit(); err != nil {
			return err
		}
		acked = append(acked, ps...)
		return nil
	}
	for i := range 4 {
		if err := commit(fmt.Appendf(nil, "a%d", i), fmt.Appendf(nil, "b%d", i)); err != nil {
			return acked, err
		}
	}
	rw, err := l.BeginRewrite()
	if err != nil {
		return acked, err
	}
	var kept [][]byte
	for p, err := range rw.Records() {
		if err != nil {
			return acked, err
		}
		if p[0] == 'a' {
			kept = append(kept, slices.Clone(p))
		}
	}
	for _, p := range kept {
		if err := rw.Append(p); err != nil {
			return acked, err
		}
	}
	if err := commit([]byte("during1")); err != nil {
		return acked, err
	}
	if err := rw.CatchUp(l.Size()); err != nil {
		return acked, err
	}
	if err := commit([]byte("during2")); err != nil {
		return acked, err
	}
	if err := l.Replace(rw); err != nil {
		return acked, err
	}
	if err := rw.Release(); err != nil {
		return acked, err
	}
	// After the rewrite the log holds kept, then during1 and during2.
	acked = append(kept, []byte("during1"), []byte("during2"))
	if err := commit([]byte("after")); err != nil {
		return acked, err
	}
	return acked, l.Close()
}

// Crash at every write, fsync, truncate, rename and directory fsync of the workload, reopen
// what a restarted process (and, after a power cut, the disk) holds, and check that every
// acknowledged record is there, in order, with nothing but records that were attempted.
func TestCrashAtEveryPoint(t *testing.T) {
	t.Parallel()
	all := [][]byte{}
	for i := range 4 {
		all = append(all, fmt.Appendf(nil, "a%d", i), fmt.Appendf(nil, "b%d", i))
	}
	for k := 1; ; k++ {
		fsys := NewMemFS()
		fsys.CrashAt(k)
		acked, err := workload(fsys)
		if !fsys.Crashed() {
			if err != nil {
				t.Fatalf("workload without a crash: %v", err)
			}
			if k < 10 {
				t.Fatalf("the workload performed only %d operations", k-1)
			}
			break
		}
		for _, power := range []bool{false, true} {
			after := fsys.Restart(power)
			l, err := Open("/d/log", opts(after))
			if err != nil {
				t.Fatalf("crash at op %d (power cut %v): reopen: %v", k, power, err)
			}
			var got [][]byte
			for p, err := range l.Records() {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, slices.Clone(p))
			}
			l.Close()
			if !containsInOrder(got, acked) {
				t.Fatalf("crash at op %d (power cut %v): log %q lacks acknowledged %q", k, power, got, acked)
			}
			for _, p := range got {
				if !slices.ContainsFunc(append(all, []byte("during1"), []byte("during2"), []byte("after")), func(q []byte) bool { return bytes.Equal(p, q) }) {
					t.Fatalf("crash at op %d: log holds %q, never written", k, p)
				}
			}
		}
	}
}

// containsInOrder reports whether want is a subsequence of got ending at got's tail or before.
func containsInOrder(got, want [][]byte) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && bytes.Equal(g, want[i]) {
			i++
		}
	}
	return i == len(want)
}
