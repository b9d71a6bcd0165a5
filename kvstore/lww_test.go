package kvstore

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func e(v string, t int64, uid string) Entry { return Entry{Value: v, Stamp: Stamp{t, uid}} }

func TestMergeKeepsNewerStamp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		a, b Entry
		want Entry
	}{
		{"later time wins", e("old", 1, "x/1"), e("new", 2, "x/1"), e("new", 2, "x/1")},
		{"later time wins, other order", e("new", 2, "x/1"), e("old", 1, "x/1"), e("new", 2, "x/1")},
		{"same time, larger uid wins", e("one", 5, "h:1/1"), e("two", 5, "h:1/2"), e("two", 5, "h:1/2")},
		{"time beats uid", e("a", 6, "h:1/1"), e("b", 5, "h:9/9"), e("a", 6, "h:1/1")},
		{"identical", e("v", 3, "u"), e("v", 3, "u"), e("v", 3, "u")},
		{"same stamp, larger value (corrupt peer)", e("a", 3, "u"), e("b", 3, "u"), e("b", 3, "u")},
		{"empty value can win", e("full", 1, "u"), e("", 2, "u"), e("", 2, "u")},
	}
	for _, tc := range cases {
		if got := merge(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: Merge = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// merge must be commutative, associative and idempotent, so replicas converge whatever order
// and however often syncs arrive.
func TestMergeIsASemilattice(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	gen := func() Entry {
		return e(fmt.Sprint(r.IntN(3)), int64(r.IntN(3)), fmt.Sprint("u", r.IntN(3)))
	}
	for range 5000 {
		a, b, c := gen(), gen(), gen()
		if merge(a, b) != merge(b, a) {
			t.Fatalf("not commutative: %v %v", a, b)
		}
		if merge(merge(a, b), c) != merge(a, merge(b, c)) {
			t.Fatalf("not associative: %v %v %v", a, b, c)
		}
		if merge(a, a) != a {
			t.Fatalf("not idempotent: %v", a)
		}
	}
}

func TestReplicaPutAlwaysWinsLocally(t *testing.T) {
	t.Parallel()
	r := newReplica()
	// A version from a server whose clock is ahead arrives first.
	r.Apply("k", e("remote", 1000, "far/1"))
	got := r.Put("k", "local", 10, "near/1")
	if got.Stamp.Time != 1001 {
		t.Errorf("Put stamp = %v, want time 1001 (newer than what the replica holds)", got.Stamp)
	}
	if v, _ := r.Get("k"); v != "local" {
		t.Errorf("Get = %q after Put, want local", v)
	}
	// A re-put of the value that lost wins again.
	r.Apply("k", e("other", 2000, "far/2"))
	r.Put("k", "local", 20, "near/1")
	if v, _ := r.Get("k"); v != "local" {
		t.Errorf("re-put lost: Get = %q", v)
	}
}

func TestReplicaApplyReportsNews(t *testing.T) {
	t.Parallel()
	r := newReplica()
	steps := []struct {
		entry Entry
		news  bool
		value string
	}{
		{e("a", 5, "u/1"), true, "a"},
		{e("a", 5, "u/1"), false, "a"}, // duplicate
		{e("old", 4, "u/9"), false, "a"},
		{e("b", 5, "u/2"), true, "b"},
		{e("c", 9, "u/1"), true, "c"},
	}
	for i, s := range steps {
		if news := r.Apply("k", s.entry); news != s.news {
			t.Errorf("step %d: Apply = %v, want %v", i, news, s.news)
		}
		if v, _ := r.Get("k"); v != s.value {
			t.Errorf("step %d: value %q, want %q", i, v, s.value)
		}
	}
}

// Replicas that see the same versions in any order, with duplicates, end identical.
func TestReplicasConvergeInAnyOrder(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	var updates []struct {
		k string
		e Entry
	}
	for i := range 300 {
		updates = append(updates, struct {
			k string
			e Entry
		}{fmt.Sprint("k", r.IntN(20)), e(fmt.Sprint("v", i), int64(r.IntN(50)), fmt.Sprint("u/", r.IntN(4)))})
	}
	var want delta
	for trial := range 10 {
		rep := newReplica()
		order := r.Perm(len(updates))
		for _, i := range append(order, order[:50]...) {
			rep.Apply(updates[i].k, updates[i].e)
		}
		snap := rep.Snapshot()
		if trial == 0 {
			want = snap
			continue
		}
		if fmt.Sprint(snap) != fmt.Sprint(want) {
			t.Fatalf("trial %d diverged", trial)
		}
	}
}

func TestReplicaListNeverNil(t *testing.T) {
	t.Parallel()
	r := newReplica()
	if r.List("x") == nil {
		t.Fatal("List returned nil")
	}
	r.Put("ab", "1", 1, "u")
	r.Put("ac", "2", 1, "u")
	r.Put("b", "3", 1, "u")
	if got := r.List("a"); len(got) != 2 || got["ab"] != "1" || got["ac"] != "2" {
		t.Errorf("List(a) = %v", got)
	}
	if got := r.List(""); len(got) != 3 {
		t.Errorf("List() = %v", got)
	}
}
