package main

import (
	"testing"
)

func TestApply(t *testing.T) {
	t.Parallel()
	put := func(k, v string, client, seq uint64) command {
		return command{Key: k, Value: v, Client: client, Seq: seq}
	}
	cas := func(k, expect, v string, client, seq uint64) command {
		return command{Key: k, Value: v, CAS: true, Expect: expect, Client: client, Seq: seq}
	}
	casAbsent := func(k, v string, client, seq uint64) command {
		return command{Key: k, Value: v, CAS: true, ExpectAbsent: true, Client: client, Seq: seq}
	}
	read := func(k string) command { return command{Key: k, Read: true} }
	type step struct {
		c    command
		want result
	}
	for _, tc := range []struct {
		name  string
		steps []step
		final map[string]string
	}{
		{"anonymous writes apply every time", []step{
			{put("k", "a", 0, 0), result{Swapped: true}},
			{put("k", "b", 0, 0), result{Swapped: true}},
			{put("k", "a", 0, 0), result{Swapped: true}},
		}, map[string]string{"k": "a"}},
		{"a retried write is applied once", []step{
			{put("k", "a", 7, 1), result{Swapped: true}},
			{put("k", "b", 8, 1), result{Swapped: true}},
			{put("k", "a", 7, 1), result{Swapped: true, Duplicate: true}},
		}, map[string]string{"k": "b"}},
		{"an older seq is a duplicate too", []step{
			{put("k", "a", 7, 1), result{Swapped: true}},
			{put("k", "b", 7, 2), result{Swapped: true}},
			{put("k", "c", 7, 1), result{Swapped: true, Duplicate: true}},
		}, map[string]string{"k": "b"}},
		{"clients are independent", []step{
			{put("k", "a", 7, 5), result{Swapped: true}},
			{put("k", "b", 8, 1), result{Swapped: true}},
		}, map[string]string{"k": "b"}},
		{"compare-and-set", []step{
			{casAbsent("k", "a", 0, 0), result{Swapped: true}},
			{casAbsent("k", "b", 0, 0), result{Swapped: false}},
			{cas("k", "x", "b", 0, 0), result{Swapped: false}},
			{cas("k", "a", "b", 0, 0), result{Swapped: true}},
			{cas("absent", "", "z", 0, 0), result{Swapped: false}},
		}, map[string]string{"k": "b"}},
		{"a retried cas repeats its first answer and does not swap again", []step{
			{put("k", "a", 0, 0), result{Swapped: true}},
			{cas("k", "a", "b", 7, 1), result{Swapped: true}},
			{put("k", "a", 0, 0), result{Swapped: true}},
			{cas("k", "a", "b", 7, 1), result{Swapped: true, Duplicate: true}},
		}, map[string]string{"k": "a"}},
		{"a retried failed cas stays failed", []step{
			{cas("k", "a", "b", 7, 1), result{Swapped: false}},
			{put("k", "a", 0, 0), result{Swapped: true}},
			{cas("k", "a", "b", 7, 1), result{Swapped: false, Duplicate: true}},
		}, map[string]string{"k": "a"}},
		{"reads see the state and change nothing", []step{
			{read("k"), result{}},
			{put("k", "\xff\xfe\x00abc", 7, 1), result{Swapped: true}},
			{read("k"), result{Value: "\xff\xfe\x00abc", Found: true}},
		}, map[string]string{"k": "\xff\xfe\x00abc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newKVState()
			for i, st := range tc.steps {
				if got := s.apply(st.c); got != st.want {
					t.Fatalf("step %d %+v: %+v, want %+v", i, st.c, got, st.want)
				}
			}
			if len(s.KV) != len(tc.final) {
				t.Fatalf("state %q, want %q", s.KV, tc.final)
			}
			for k, v := range tc.final {
				if s.KV[k] != v {
					t.Fatalf("state %q, want %q", s.KV, tc.final)
				}
			}
		})
	}
}

// TestSnapshotKeepsSessions checks that a server restored from a snapshot still recognises a
// retried request, and that values survive byte for byte.
func TestSnapshotKeepsSessions(t *testing.T) {
	t.Parallel()
	s := newKVState()
	s.apply(command{Key: "k", Value: "\xff\xfe\x00abc", Client: 7, Seq: 3})
	s.Applied = 12
	b, err := s.encode()
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeKVState(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Applied != 12 || r.KV["k"] != "\xff\xfe\x00abc" {
		t.Fatalf("restored %+v", r)
	}
	if res := r.apply(command{Key: "k", Value: "again", Client: 7, Seq: 3}); !res.Duplicate || r.KV["k"] != "\xff\xfe\x00abc" {
		t.Fatalf("retry after restore: %+v, value %q", res, r.KV["k"])
	}
	// A snapshot of an empty store (or one from before sessions) restores usable maps.
	e := kvState{Applied: 1}
	b, _ = e.encode()
	if r, err = decodeKVState(b); err != nil || r.KV == nil || r.Sessions == nil {
		t.Fatalf("empty snapshot: %+v %v", r, err)
	}
	r.apply(command{Key: "k", Value: "v", Client: 1, Seq: 1})
	if _, err := decodeKVState([]byte("garbage")); err == nil {
		t.Fatal("garbage decoded")
	}
}

func FuzzDecodeKVState(f *testing.F) {
	s := newKVState()
	s.apply(command{Key: "k", Value: "v", Client: 1, Seq: 1})
	b, _ := s.encode()
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if st, err := decodeKVState(b); err == nil {
			st.apply(command{Key: "k", Value: "v", Client: 1, Seq: 2})
		}
	})
}
