package raft

import (
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

type testOp struct {
	Key string
	N   int
}

func init() { gob.Register(testOp{}) }

func TestStateEncodingRoundTrip(t *testing.T) {
	t.Parallel()
	st := Saved{Term: 7, VotedFor: none, Snapshot: Snapshot{Index: 3, Term: 2}, Entries: []Entry{
		{Term: 2, Command: 42}, {Term: 3, Command: "hello"}, {Term: 3, Command: []byte{1, 2}},
		{Term: 5, Command: testOp{"k", -1}}, {Term: 7, Command: nil}, {Term: 7, Command: math.MinInt + 1},
	}}
	data, err := encodeState(st)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeState(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, st)
	}
	for cut := range len(data) {
		if _, err := decodeState(data[:cut]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("a state cut at %d of %d bytes: err %v, want ErrCorruptState", cut, len(data), err)
		}
	}
}

func TestUnencodableCommandRefused(t *testing.T) {
	t.Parallel()
	type unregistered struct{ X int }
	if err := checkCommand(unregistered{1}); err == nil {
		t.Fatal("an unregistered command type was accepted")
	}
	if err := checkCommand(testOp{}); err != nil {
		t.Fatal(err)
	}
	if _, err := encodeCommand(func() {}); err == nil {
		t.Fatal("a func encoded")
	}
}

func FuzzDecodeState(f *testing.F) {
	st := Saved{Term: 3, VotedFor: 1, Entries: []Entry{{Term: 1, Command: 5}, {Term: 3, Command: "x"}, {Term: 3, Command: testOp{"a", 1}}}}
	data, _ := encodeState(st)
	f.Add(data)
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 200})
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState(data)
		if err != nil {
			return
		}
		// Whatever decodes must encode again and decode to the same state.
		again, err := encodeState(st)
		if err != nil {
			t.Fatal(err)
		}
		st2, err := decodeState(again)
		if err != nil || !reflect.DeepEqual(st, st2) {
			t.Fatalf("re-decode: %v\n%+v\n%+v", err, st, st2)
		}
	})
}

// TestStorageFollowsLog drives a core's log through random appends, truncations, compactions
// and resets and changes of term, storing its update at random moments, and checks the storage
// against the log each time: the stable mark must never leave a stale or missing entry behind.
// The stored state's encoding must have the size RaftStateSize reports and decode to the same.
func TestStorageFollowsLog(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		c := testCore(0, 3, 0)
		p := NewMemoryPersister()
		for step := range 60 {
			switch op := rng.IntN(10); {
			case op < 5:
				es := make([]Entry, 1+rng.IntN(4))
				for i := range es {
					es[i] = Entry{Term: c.term, Command: fmt.Sprintf("r%d-s%d-%d", round, step, i)}
				}
				c.log.append(es...)
			case op < 7 && c.log.lastIndex() > c.log.snapIndex():
				c.log.truncateFrom(c.log.snapIndex() + 1 + rng.IntN(c.log.lastIndex()-c.log.snapIndex()))
			case op < 8 && c.log.lastIndex() > c.log.snapIndex():
				c.log.compact(c.log.snapIndex() + 1 + rng.IntN(c.log.lastIndex()-c.log.snapIndex()))
				c.snapshot, c.snapDirty = []byte(fmt.Sprint(step)), true
			case op < 9:
				c.term++
			case rng.IntN(4) == 0:
				c.log.reset(c.log.lastIndex()+rng.IntN(3), c.log.lastTerm())
				c.snapshot, c.snapDirty = []byte(fmt.Sprint(step)), true
			}
			c.dirty = true
			if rng.IntN(3) > 0 {
				continue
			}
			rd, _ := c.ready()
			if err := p.Store(*rd.update); err != nil {
				t.Fatalf("round %d step %d: %v", round, step, err)
			}
			c.advance(rd)
			got, err := p.Load()
			if err != nil {
				t.Fatal(err)
			}
			want := Saved{Term: c.term, VotedFor: c.votedFor, Entries: c.log.slice(c.log.snapIndex()+1, c.log.lastIndex()),
				Snapshot: Snapshot{Index: c.log.snapIndex(), Term: c.log.snapTerm(), Data: c.snapshot}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d step %d: stored\n%+v\nwant\n%+v", round, step, got, want)
			}
			data := p.ReadRaftState()
			if len(data) != p.RaftStateSize() {
				t.Fatalf("RaftStateSize %d, encoding %d bytes", p.RaftStateSize(), len(data))
			}
			st, err := decodeState(data)
			if st.Snapshot.Data = c.snapshot; err != nil || !reflect.DeepEqual(st, want) {
				t.Fatalf("round %d step %d: decoded %+v %v", round, step, st, err)
			}
		}
	}
}
