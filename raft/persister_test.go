package raft

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// persisterContract checks what every Persister must do.
func persisterContract(t *testing.T, p Persister) {
	t.Helper()
	if p.RaftStateSize() != 0 || p.SnapshotSize() != 0 || p.ReadRaftState() != nil || p.ReadSnapshot() != nil {
		t.Fatal("a new persister is not empty")
	}
	p.Save([]byte("state1"), nil)
	p.Save([]byte("state2"), []byte("snap2"))
	if string(p.ReadRaftState()) != "state2" || string(p.ReadSnapshot()) != "snap2" || p.RaftStateSize() != 6 || p.SnapshotSize() != 5 {
		t.Fatalf("read back %q %q", p.ReadRaftState(), p.ReadSnapshot())
	}
	// Our persisters copy the state: the caller may reuse its buffer.
	buf := []byte("state3")
	p.Save(buf, []byte("snap2"))
	copy(buf, "XXXXXX")
	p.Save(append(buf[:0], "state4"...)[:0], []byte("snap2")) // an empty state, same buffer
	if p.ReadRaftState() != nil || p.RaftStateSize() != 0 {
		t.Fatalf("an empty state read back as %q", p.ReadRaftState())
	}
	p.Save(append(buf[:0], "state5"...), []byte("snap2"))
	copy(buf, "YYYYYY")
	if string(p.ReadRaftState()) != "state5" {
		t.Fatalf("the persister kept the caller's buffer: read %q", p.ReadRaftState())
	}
}

func TestMemoryPersister(t *testing.T) {
	t.Parallel()
	p := NewMemoryPersister()
	persisterContract(t, p)
	c := p.Copy()
	p.Save([]byte("later"), []byte("later"))
	if string(c.ReadRaftState()) != "state5" || string(c.ReadSnapshot()) != "snap2" {
		t.Fatalf("Copy is not independent of later saves: %q", c.ReadRaftState())
	}
	c.Save([]byte("copy!"), nil)
	if string(p.ReadRaftState()) != "later" || string(c.ReadRaftState()) != "copy!" {
		t.Fatalf("saves to a Copy and its original interfere: %q %q", p.ReadRaftState(), c.ReadRaftState())
	}
}

func TestFilePersisterContractAndReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p, err := NewFilePersister(dir)
	if err != nil {
		t.Fatal(err)
	}
	persisterContract(t, p)
	q, err := NewFilePersister(dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(q.ReadRaftState()) != "state5" || string(q.ReadSnapshot()) != "snap2" {
		t.Fatalf("reopened: %q %q", q.ReadRaftState(), q.ReadSnapshot())
	}
	// Many saves leave a bounded number of files behind.
	snap := []byte("snapA")
	for i := range 50 {
		if i%10 == 0 {
			snap = []byte(fmt.Sprintf("snap%d", i))
		}
		q.Save([]byte(fmt.Sprintf("state%d", i)), snap)
	}
	files, _ := os.ReadDir(dir)
	if len(files) > 4 {
		t.Fatalf("%d files left: %v", len(files), files)
	}
	r, err := NewFilePersister(dir)
	if err != nil || string(r.ReadRaftState()) != "state49" || string(r.ReadSnapshot()) != "snap40" {
		t.Fatalf("after 50 saves: %q %q %v", r.ReadRaftState(), r.ReadSnapshot(), err)
	}
}

func TestFilePersisterBadDir(t *testing.T) {
	t.Parallel()
	if _, err := NewFilePersister(""); err == nil {
		t.Fatal("empty dir accepted")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := NewFilePersister(file); err == nil {
		t.Fatal("a regular file accepted as a directory")
	}
}

var errCrash = errors.New("simulated crash")

// TestFilePersisterCrashAtEveryStep crashes a save at each step in turn (temp files half
// written, written but not renamed, renamed but the directory not synced) and checks that a
// reopen sees either the old pair or the new pair, never a mix.
func TestFilePersisterCrashAtEveryStep(t *testing.T) {
	t.Parallel()
	oldState, oldSnap := []byte("old-state"), []byte("old-snap")
	newState, newSnap := []byte("new-state"), []byte("new-snap-longer")
	for step := 0; ; step++ {
		dir := t.TempDir()
		p, err := NewFilePersister(dir)
		if err != nil {
			t.Fatal(err)
		}
		p.Save(oldState, oldSnap)
		var steps []string
		p.fault = func(name string) error {
			steps = append(steps, name)
			if len(steps) > step {
				return errCrash
			}
			return nil
		}
		p.Save(newState, newSnap)
		crashed := p.Err() != nil
		if crashed && !errors.Is(p.Err(), ErrPersisterFailed) {
			t.Fatalf("Err %v", p.Err())
		}
		q, err := NewFilePersister(dir)
		if err != nil {
			t.Fatal(err)
		}
		gotState, gotSnap := q.ReadRaftState(), q.ReadSnapshot()
		isOld := bytes.Equal(gotState, oldState) && bytes.Equal(gotSnap, oldSnap)
		isNew := bytes.Equal(gotState, newState) && bytes.Equal(gotSnap, newSnap)
		if !isOld && !isNew {
			t.Fatalf("crash before step %d (%v): got %q %q", step, steps, gotState, gotSnap)
		}
		if !crashed {
			if !isNew {
				t.Fatal("a completed save was lost")
			}
			if step < 4 {
				t.Fatalf("only %d fault points", step)
			}
			return
		}
		if p.Save([]byte("x"), nil); !bytes.Equal(p.ReadRaftState(), oldState) {
			t.Fatal("a failed persister kept saving")
		}
		for _, f := range mustReadDir(t, dir) {
			if strings.HasSuffix(f, tempSuffix) {
				t.Fatalf("temp file %s survived reopen", f)
			}
		}
	}
}

func mustReadDir(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestFilePersisterTornOrCorrupt damages the newest generation in several ways; the reopen
// falls back to the previous good state and snapshot.
func TestFilePersisterTornOrCorrupt(t *testing.T) {
	t.Parallel()
	damages := map[string]func(path string) error{
		"truncated to zero":  func(p string) error { return os.Truncate(p, 0) },
		"torn in the header": func(p string) error { return os.Truncate(p, 10) },
		"torn in the body": func(p string) error {
			fi, _ := os.Stat(p)
			return os.Truncate(p, fi.Size()-3)
		},
		"bit flip": func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 0x40
			return os.WriteFile(p, b, 0o644)
		},
		"snapshot missing": func(p string) error {
			dir := filepath.Dir(p)
			for _, name := range []string{"snap-3.dat"} {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					return err
				}
			}
			return nil
		},
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := NewFilePersister(dir)
			if err != nil {
				t.Fatal(err)
			}
			p.Save([]byte("good"), []byte("good-snap"))   // snap-1, state-2
			p.Save([]byte("newer"), []byte("newer-snap")) // snap-3, state-4
			if err := damage(p.path(statePrefix, 4)); err != nil {
				t.Fatal(err)
			}
			q, err := NewFilePersister(dir)
			if err != nil {
				t.Fatal(err)
			}
			if string(q.ReadRaftState()) != "good" || string(q.ReadSnapshot()) != "good-snap" {
				t.Fatalf("recovered %q %q, want the previous good pair", q.ReadRaftState(), q.ReadSnapshot())
			}
			// And it keeps working from there, past the damaged generation's number.
			q.Save([]byte("after"), []byte("good-snap"))
			r, _ := NewFilePersister(dir)
			if string(r.ReadRaftState()) != "after" || q.Err() != nil {
				t.Fatalf("after recovery: %q %v", r.ReadRaftState(), q.Err())
			}
		})
	}
}

// TestRaftStopsWhenPersistenceFails: a server that cannot persist must stop answering.
func TestRaftStopsWhenPersistenceFails(t *testing.T) {
	t.Parallel()
	p, err := NewFilePersister(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p.fault = func(string) error { return errCrash }
	applyCh := make(chan ApplyMsg, 1)
	rf := Make([]Peer{nil, nil, nil}, 0, p, applyCh)
	defer rf.Kill()
	var reply RequestVoteReply
	err = rf.requestVote(&RequestVoteArgs{Term: 5, CandidateID: 1}, &reply)
	if !errors.Is(err, ErrKilled) || reply.VoteGranted || !rf.Killed() || !errors.Is(rf.Err(), ErrPersisterFailed) {
		t.Fatalf("err %v reply %+v killed %v", err, reply, rf.Killed())
	}
}

func TestMakeRejectsBadArguments(t *testing.T) {
	t.Parallel()
	ch := make(chan ApplyMsg)
	for name, rf := range map[string]*Raft{
		"no peers":      Make(nil, 0, NewMemoryPersister(), ch),
		"me outside":    Make([]Peer{nil}, 1, NewMemoryPersister(), ch),
		"no persister":  Make([]Peer{nil}, 0, nil, ch),
		"no apply chan": Make([]Peer{nil}, 0, NewMemoryPersister(), nil),
		"corrupt state": Make([]Peer{nil}, 0, func() Persister {
			p := NewMemoryPersister()
			p.Save([]byte("junk"), nil)
			return p
		}(), ch),
	} {
		if rf.Err() == nil || !rf.Killed() {
			t.Errorf("%s: accepted", name)
		}
		if _, _, ok := rf.Start(1); ok {
			t.Errorf("%s: Start accepted", name)
		}
		rf.Kill()
	}
}
