package kvserver

import (
	"ds440/kvserver/internal/keyspace"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func TestMemoryStore(t *testing.T) {
	s := NewMemoryStore()
	if got := s.Get("k"); got != nil {
		t.Fatalf("Get of a missing key = %q, want nil", got)
	}
	v := []byte("a")
	s.Put("k", v)
	v[0] = 'X' // the store keeps its own copy
	s.Put("k", []byte("b"))
	s.Put("k", []byte("a"))
	s.Put("k", nil)
	s.Put("other", []byte("o"))
	if got := strs(s.Get("k")); !slices.Equal(got, []string{"a", "b", "a", ""}) {
		t.Fatalf("Get = %q", got)
	}
	s.Update("k", []byte("a"), []byte("z"))
	s.Update("missing", []byte("a"), []byte("z"))
	if got := strs(s.Get("k")); !slices.Equal(got, []string{"z", "b", "z", ""}) {
		t.Fatalf("after Update, Get = %q", got)
	}
	got := s.Get("k")
	got[0] = []byte("changed") // a Get result is the caller's
	if got := strs(s.Get("k")); got[0] != "z" {
		t.Fatalf("modifying a Get result changed the store: %q", got)
	}
	s.Delete("k")
	s.Delete("missing")
	if got := s.Get("k"); got != nil {
		t.Fatalf("Get after Delete = %q", got)
	}
	if got := strs(s.Get("other")); !slices.Equal(got, []string{"o"}) {
		t.Fatalf("other key = %q", got)
	}
}

func TestClampRange(t *testing.T) {
	tests := []struct {
		n, start, stop int
		lo, hi         int
		ok             bool
	}{
		{n: 5, start: 0, stop: -1, lo: 0, hi: 5, ok: true},
		{n: 5, start: 1, stop: 2, lo: 1, hi: 3, ok: true},
		{n: 5, start: -2, stop: -1, lo: 3, hi: 5, ok: true},
		{n: 5, start: -100, stop: 100, lo: 0, hi: 5, ok: true},
		{n: 5, start: 3, stop: 1},
		{n: 5, start: 5, stop: 10},
		{n: 5, start: 0, stop: -6},
		{n: 0, start: 0, stop: -1},
		{n: 1, start: -1, stop: -1, lo: 0, hi: 1, ok: true},
	}
	for _, tt := range tests {
		lo, hi, ok := keyspace.ClampRange(tt.n, tt.start, tt.stop)
		if lo != tt.lo || hi != tt.hi || ok != tt.ok {
			t.Errorf("keyspace.ClampRange(%d, %d, %d) = %d, %d, %v; want %d, %d, %v", tt.n, tt.start, tt.stop, lo, hi, ok, tt.lo, tt.hi, tt.ok)
		}
	}
}

// plainStore hides the ListStore methods of the memory store, to exercise basicLists.
type plainStore struct{ KVStore }

// The memory store's list operations and the ones built from the four KVStore methods agree
// with a simple model on a random sequence of operations.
func TestListOperationsAgree(t *testing.T) {
	native := NewMemoryStore().(ListStore)
	built, isNative := listsOf(plainStore{NewMemoryStore()})
	if isNative {
		t.Fatal("plainStore taken for a ListStore")
	}
	model := map[string][]string{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		key := "k" + strconv.Itoa(rng.IntN(4))
		val := strconv.Itoa(rng.IntN(6))
		switch rng.IntN(5) {
		case 0, 1:
			native.Put(key, []byte(val))
			built.Put(key, []byte(val))
			model[key] = append(model[key], val)
		case 2:
			native.Prepend(key, []byte(val))
			built.Prepend(key, []byte(val))
			model[key] = append([]string{val}, model[key]...)
		case 3:
			nv := strconv.Itoa(rng.IntN(6))
			native.Update(key, []byte(val), []byte(nv))
			built.Update(key, []byte(val), []byte(nv))
			for j, v := range model[key] {
				if v == val {
					model[key][j] = nv
				}
			}
		case 4:
			if rng.IntN(4) == 0 {
				native.Delete(key)
				built.Delete(key)
				delete(model, key)
			}
		}
		start, stop := rng.IntN(12)-6, rng.IntN(12)-6
		want := model[key]
		lo, hi, ok := keyspace.ClampRange(len(want), start, stop)
		wantRange := []string(nil)
		if ok {
			wantRange = want[lo:hi]
		}
		for name, s := range map[string]listOps{"native": native, "built": built} {
			if got := strs(s.Get(key)); !slices.Equal(got, want) {
				t.Fatalf("step %d %s: Get(%s) = %q, want %q", i, name, key, got, want)
			}
			if got := strs(s.Range(key, start, stop)); !slices.Equal(got, wantRange) {
				t.Fatalf("step %d %s: Range(%s, %d, %d) = %q, want %q", i, name, key, start, stop, got, wantRange)
			}
			if got := s.Len(key); got != len(want) {
				t.Fatalf("step %d %s: Len = %d, want %d", i, name, got, len(want))
			}
		}
		if native.Keys() != len(model) {
			t.Fatalf("step %d: Keys = %d, want %d", i, native.Keys(), len(model))
		}
	}
	native.Clear()
	if native.Keys() != 0 || native.Get("k0") != nil {
		t.Fatal("Clear left keys behind")
	}
}

func BenchmarkMemoryStorePutGet(b *testing.B) {
	s := NewMemoryStore()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	v := []byte("xxx")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := keys[i%len(keys)]
		s.Delete(k)
		s.Put(k, v)
		_ = s.Get(k)
	}
}
