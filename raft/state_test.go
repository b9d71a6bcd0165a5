package raft

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
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
	st := persistentState{Term: 7, VotedFor: none, SnapIndex: 3, SnapTerm: 2, Entries: []Entry{
		{Term: 2, Command: 42}, {Term: 3, Command: "hello"}, {Term: 3, Command: []byte{1, 2}},
		{Term: 5, Command: testOp{"k", -1}}, {Term: 7, Command: nil}, {Term: 7, Command: -1 << 40},
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
	st := persistentState{Term: 3, VotedFor: 1, Entries: []Entry{{Term: 1, Command: 5}, {Term: 3, Command: "x"}, {Term: 3, Command: testOp{"a", 1}}}}
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

// TestLogEncodingCache drives a log through random appends, truncations, compactions and
// resets, saving at random moments, and checks every save against a fresh encoding of the same
// state: the incremental cache must never leave a stale or missing entry behind.
func TestLogEncodingCache(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		l := newLog()
		term := 1
		var scratch []byte // reused between saves, as Raft does
		for step := range 60 {
			switch op := rng.IntN(10); {
			case op < 5:
				es := make([]Entry, 1+rng.IntN(4))
				for i := range es {
					es[i] = Entry{Term: term, Command: fmt.Sprintf("r%d-s%d-%d", round, step, i)}
				}
				l.append(es...)
			case op < 7 && l.lastIndex() > l.snapIndex():
				l.truncateFrom(l.snapIndex() + 1 + rng.IntN(l.lastIndex()-l.snapIndex()))
			case op < 8 && l.lastIndex() > l.snapIndex():
				l.compact(l.snapIndex() + 1 + rng.IntN(l.lastIndex()-l.snapIndex()))
			case op < 9:
				term++
			case rng.IntN(4) == 0:
				l.reset(l.lastIndex()+rng.IntN(3), l.lastTerm())
			}
			if rng.IntN(3) > 0 {
				continue
			}
			got, err := appendLogState(scratch[:0], term, 1, &l)
			if err != nil {
				t.Fatal(err)
			}
			fresh := newLog()
			fresh.reset(l.snapIndex(), l.snapTerm())
			fresh.append(l.slice(l.snapIndex()+1, l.lastIndex())...)
			want, err := appendLogState(nil, term, 1, &fresh)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("round %d step %d: cached encoding differs from a fresh one", round, step)
			}
			scratch = got
		}
	}
}
