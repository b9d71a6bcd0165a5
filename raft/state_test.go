package raft

import (
	"encoding/gob"
	"reflect"
	"testing"
)

type testOp struct {
	Key string
	N   int
}

func init() { gob.Register(testOp{}) }

func TestStateEncodingRoundTrip(t *testing.T) {
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
		if _, err := decodeState(data[:cut]); err == nil {
			t.Fatalf("decoded a state cut at %d of %d bytes", cut, len(data))
		}
	}
}

func TestUnencodableCommandRefused(t *testing.T) {
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
