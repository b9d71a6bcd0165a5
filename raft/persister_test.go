package raft

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"ds440/internal/durable"
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
	// Opening the directory again in this process hands the log over: the old one stops.
	q, err := NewFilePersister(dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(q.ReadRaftState()) != "state5" || string(q.ReadSnapshot()) != "snap2" {
		t.Fatalf("reopened: %q %q", q.ReadRaftState(), q.ReadSnapshot())
	}
	if err := p.Store(Update{Term: 1, VotedFor: none}); !errors.Is(err, ErrPersisterClosed) {
		t.Fatalf("the superseded persister stored: %v", err)
	}
	// Many saves leave one log of bounded size behind.
	snap := []byte("snapA")
	for i := range 50 {
		if i%10 == 0 {
			snap = []byte(fmt.Sprintf("snap%d", i))
		}
		q.Save([]byte(fmt.Sprintf("state%d", i)), snap)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if files := mustReadDir(t, dir); len(files) != 1 {
		t.Fatalf("files left: %v", files)
	}
	r, err := NewFilePersister(dir)
	if err != nil || string(r.ReadRaftState()) != "state49" || string(r.ReadSnapshot()) != "snap40" {
		t.Fatalf("after 50 saves: %q %q %v", r.ReadRaftState(), r.ReadSnapshot(), err)
	}
	if rec := r.Recovery(); rec.Records != 1 || rec.Cut != 0 {
		t.Fatalf("recovery %+v", rec)
	}
	r.Close()
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
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, logFile), []byte("not a raft log"), 0o644)
	if _, err := NewFilePersister(dir); !errors.Is(err, durable.ErrNotLog) {
		t.Fatalf("a foreign file opened: %v", err)
	}
}

var errCrash = errors.New("simulated disk failure")

// storageWorkload is a run of updates as Raft makes them: votes, appends, a conflicting
// suffix replaced, a compaction with a snapshot, a snapshot installed over the whole log, and
// a Save of a whole state through the Persister interface in the middle.
func storageWorkload() []any {
	es := func(term, n int, tag string) []Entry {
		out := make([]Entry, n)
		for i := range out {
			out[i] = Entry{Term: term, Command: fmt.Sprintf("%s%d", tag, i)}
		}
		return out
	}
	whole, _ := encodeState(Saved{Term: 9, VotedFor: 1, Snapshot: Snapshot{Index: 20, Term: 8}, Entries: es(9, 2, "w")})
	return []any{
		Update{Term: 1, VotedFor: 0},
		Update{Term: 1, VotedFor: 0, From: 1, Entries: es(1, 3, "a")},
		Update{Term: 1, VotedFor: 0, From: 4, Entries: es(1, 2, "b")},
		Update{Term: 2, VotedFor: none},
		Update{Term: 2, VotedFor: none, From: 3, Entries: es(2, 4, "c")},
		Update{Term: 2, VotedFor: none, Snapshot: &Snapshot{Index: 4, Term: 2, Data: []byte("snap4")}, From: 5, Entries: es(2, 2, "c")},
		Update{Term: 3, VotedFor: 2, From: 7, Entries: []Entry{{Term: 3, Command: testOp{"k", 7}}}},
		[2][]byte{whole, []byte("snap20")},
		Update{Term: 9, VotedFor: 1, From: 23, Entries: es(9, 1, "x")},
		Update{Term: 10, VotedFor: 1, Snapshot: &Snapshot{Index: 30, Term: 10, Data: []byte("snap30")}, From: 31},
		Update{Term: 10, VotedFor: 1, From: 31, Entries: es(10, 3, "y")},
	}
}

// apply carries one step of storageWorkload out on s.
func applyStep(s interface {
	Storage
	Persister
}, step any) error {
	switch v := step.(type) {
	case Update:
		return s.Store(v)
	case [2][]byte:
		s.Save(v[0], v[1])
	}
	return nil
}

// TestFilePersisterCrashAtEveryPoint runs storageWorkload on a file system that crashes at its
// n-th write, fsync, rename or directory fsync, for every n in turn, then reopens the
// persister as a restarted process would (and as a machine after a power cut would) and
// checks that it holds the state after the last step acknowledged, or after the step that
// was cut short, whole: never less, never a mix. The in-memory twin gives the expected states.
func TestFilePersisterCrashAtEveryPoint(t *testing.T) {
	t.Parallel()
	steps := storageWorkload()
	want := []Saved{{VotedFor: none}} // want[k]: the state after k steps
	twin := NewMemoryPersister()
	for _, step := range steps {
		if err := applyStep(twin, step); err != nil {
			t.Fatal(err)
		}
		st, err := twin.Load()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, st)
	}
	for n := 1; ; n++ {
		fsys := durable.NewMemFS()
		p, err := openFilePersister("/data", fsys)
		if err != nil {
			t.Fatal(err)
		}
		fsys.CrashAt(fsys.Ops() + n)
		acked := 0
		for _, step := range steps {
			if applyStep(p, step) != nil || fsys.Crashed() {
				break
			}
			acked++
		}
		if !fsys.Crashed() {
			if acked != len(steps) || n < 20 {
				t.Fatalf("no crash at %d: %d of %d steps acknowledged", n, acked, len(steps))
			}
			return
		}
		for _, power := range []bool{false, true} {
			q, err := openFilePersister("/data", fsys.Restart(power))
			if err != nil {
				t.Fatalf("crash at %d (power cut %v): reopen: %v", n, power, err)
			}
			got, err := q.Load()
			if err != nil {
				t.Fatalf("crash at %d (power cut %v): %v", n, power, err)
			}
			ok := reflect.DeepEqual(got, want[acked])
			if acked < len(steps) && reflect.DeepEqual(got, want[acked+1]) {
				ok = true // the step cut short had reached the disk whole
			}
			if !ok {
				t.Fatalf("crash at %d (power cut %v) after %d steps acknowledged: got\n%+v\nwant\n%+v", n, power, acked, got, want[acked])
			}
			// The reopened persister carries on.
			if err := q.Store(Update{Term: got.Term + 1, VotedFor: none}); err != nil {
				t.Fatalf("crash at %d: store after reopen: %v", n, err)
			}
			q.Close()
		}
	}
}

// TestFilePersisterTornAndDamaged cuts the log inside its last record, which recovery cuts off
// and reports, and damages a record with intact ones after it, which the persister refuses.
func TestFilePersisterTornAndDamaged(t *testing.T) {
	t.Parallel()
	write := func(t *testing.T) (string, int64) {
		dir := t.TempDir()
		p, err := NewFilePersister(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range storageWorkload()[:5] {
			if err := applyStep(p, step); err != nil {
				t.Fatal(err)
			}
		}
		size := p.log.Size()
		p.Close()
		return dir, size
	}
	t.Run("torn", func(t *testing.T) {
		dir, size := write(t)
		if err := os.Truncate(filepath.Join(dir, logFile), size-3); err != nil {
			t.Fatal(err)
		}
		p, err := NewFilePersister(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		rec := p.Recovery()
		if rec.Cut == 0 || !errors.Is(rec.Reason, durable.ErrTornRecord) || rec.Kept == "" || rec.Records != 4 {
			t.Fatalf("recovery %+v", rec)
		}
		st, _ := p.Load()
		if st.Term != 2 || len(st.Entries) != 5 {
			t.Fatalf("after the torn tail: %+v", st)
		}
	})
	t.Run("damaged", func(t *testing.T) {
		dir, _ := write(t)
		path := filepath.Join(dir, logFile)
		b, _ := os.ReadFile(path)
		b[len(logMagic)+durable.HeaderSize+1] ^= 0x40 // inside the first record
		os.WriteFile(path, b, 0o644)
		if _, err := NewFilePersister(dir); !errors.Is(err, durable.ErrDamaged) {
			t.Fatalf("a damaged log opened: %v", err)
		}
	})
}

// TestRaftStopsWhenPersistenceFails: a server that cannot persist must stop answering.
func TestRaftStopsWhenPersistenceFails(t *testing.T) {
	t.Parallel()
	fsys := durable.NewMemFS()
	p, err := openFilePersister("/data", fsys)
	if err != nil {
		t.Fatal(err)
	}
	fsys.FailAt(fsys.Ops()+1, errCrash)
	applyCh := make(chan ApplyMsg, 1)
	rf := Make([]Peer{nil, nil, nil}, 0, p, applyCh)
	defer rf.Kill()
	var reply RequestVoteReply
	err = rf.requestVote(&RequestVoteArgs{Term: 5, CandidateID: 1}, &reply)
	if !errors.Is(err, ErrKilled) || reply.VoteGranted || !rf.Killed() {
		t.Fatalf("err %v reply %+v killed %v", err, reply, rf.Killed())
	}
	if err := rf.Err(); !errors.Is(err, ErrStorageFailed) || !errors.Is(err, errCrash) {
		t.Fatalf("Err %v", err)
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

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
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

// TestFilePersisterHandOverTable checks that the process-wide table of open directories holds
// only persisters that are open: a reopen replaces the old one, Close and a failed open leave
// nothing behind.
func TestFilePersisterHandOverTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	registered := func() *FilePersister {
		openDirs.Lock()
		defer openDirs.Unlock()
		return openDirs.m[dir]
	}
	p, err := NewFilePersister(dir)
	if err != nil {
		t.Fatal(err)
	}
	if registered() != p {
		t.Fatal("an open persister is not in the table")
	}
	q, err := NewFilePersister(dir)
	if err != nil {
		t.Fatal(err)
	}
	if registered() != q {
		t.Fatal("the reopened persister did not take the directory over")
	}
	p.Close() // the superseded one: must not take q out
	if registered() != q {
		t.Fatal("closing a superseded persister took its successor out of the table")
	}
	q.Close()
	if registered() != nil {
		t.Fatal("a closed persister stays in the table")
	}
	os.WriteFile(filepath.Join(dir, logFile), []byte("not a raft log"), 0o644)
	if _, err := NewFilePersister(dir); err == nil {
		t.Fatal("a foreign file opened")
	}
	if registered() != nil {
		t.Fatal("a failed open left a persister in the table")
	}
}
