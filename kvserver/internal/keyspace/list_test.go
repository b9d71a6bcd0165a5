package keyspace

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// unsafeView returns b as a string that shares b's bytes, as kvserver's commands make keys.
func unsafeView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// checkList fails t unless l holds exactly want, read every way a List can be read.
func checkList(t *testing.T, step string, l *List, want [][]byte) {
	t.Helper()
	if l.Len() != len(want) {
		t.Fatalf("%s: Len = %d, want %d", step, l.Len(), len(want))
	}
	for i, w := range want {
		if got := l.At(i); string(got) != string(w) {
			t.Fatalf("%s: At(%d) = %q, want %q", step, i, got, w)
		}
	}
	for _, r := range [][2]int{{0, len(want)}, {len(want) / 3, len(want) - len(want)/4}, {len(want) / 2, len(want) / 2}} {
		var got [][]byte
		for v := range l.Values(r[0], r[1]) {
			got = append(got, v)
		}
		if !slices.EqualFunc(got, want[r[0]:r[1]], func(a, b []byte) bool { return string(a) == string(b) }) {
			t.Fatalf("%s: Values(%d, %d) = %q, want %q", step, r[0], r[1], got, want[r[0]:r[1]])
		}
	}
}

// TestListAgainstSlice drives a List and a plain slice through the same random operations,
// long enough to cross chunk boundaries at both ends in both directions, and compares them
// after every step.
func TestListAgainstSlice(t *testing.T) {
	t.Parallel()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 440))
			var l List
			var want [][]byte
			value := func() []byte { return fmt.Appendf(nil, "v%d", rng.IntN(1000)) }
			for step := range 4000 {
				// Phases of growth and shrinkage, so that lists get long and empty again.
				grow := (step/700)%2 == 0
				switch op := rng.IntN(20); {
				case op < 5 || (grow && op < 10):
					v := value()
					l.PushFront(v)
					want = slices.Insert(want, 0, slices.Clone(v))
					v[0] = 'X' // the list holds a copy
				case op < 10 || (grow && op < 15):
					v := value()
					l.PushBack(v)
					want = append(want, slices.Clone(v))
				case op < 13 && len(want) > 0:
					l.PopFront()
					want = want[1:]
				case op < 16 && len(want) > 0:
					l.PopBack()
					want = want[:len(want)-1]
				case op == 16 && len(want) > 0:
					old, nv := want[rng.IntN(len(want))], value()
					old = slices.Clone(old)
					if got := l.Replace(old, nv); !got {
						t.Fatalf("step %d: Replace(%q) found nothing", step, old)
					}
					for i := range want {
						if string(want[i]) == string(old) {
							want[i] = slices.Clone(nv)
						}
					}
				case op == 17 && len(want) > 0:
					s := value()
					l.AppendToLast(s)
					want[len(want)-1] = append(slices.Clone(want[len(want)-1]), s...)
				case op == 18 && rng.IntN(50) == 0:
					v := value()
					l.SetOne(v)
					want = [][]byte{slices.Clone(v)}
				}
				if step%5 == 0 || len(want) < 3 { // every read of a long list is slow under -race
					checkList(t, fmt.Sprintf("step %d", step), &l, want)
				} else if l.Len() != len(want) || string(l.At(0)) != string(want[0]) || string(l.At(l.Len()-1)) != string(want[len(want)-1]) {
					t.Fatalf("step %d: the ends or the length differ", step)
				}
			}
		})
	}
}

// TestSetOneReusesMemory checks that overwriting a string, what SET and MSET do, allocates
// nothing once the string's chunk has room.
func TestSetOneReusesMemory(t *testing.T) {
	s := New()
	s.Apply(Record{Op: OpSet, Key: "k", A: []byte("first")})
	v := []byte("value")
	if n := testing.AllocsPerRun(100, func() { s.Apply(Record{Op: OpSet, Key: "k", A: v}) }); n != 0 {
		t.Errorf("SET over a string: %v allocations, want 0", n)
	}
	if got := s.Lookup("k").Str(); string(got) != "value" {
		t.Errorf("value = %q", got)
	}
}

// TestKeysAreCopied checks that a store keeps its own copy of a key it inserts, since a
// Record's key may be a view of a buffer its caller reuses.
func TestKeysAreCopied(t *testing.T) {
	t.Parallel()
	s := New()
	buf := []byte("key1")
	for _, op := range []Op{OpSet, OpPut, OpPrepend, OpHSet, OpSAdd, OpZAdd} {
		s.Apply(Record{Op: op, Key: unsafeView(buf), A: []byte("m"), B: Float64Bytes(1)})
		buf[3]++ // the next op's key; the previous key must survive the change
	}
	for i := range 6 {
		if s.Lookup(fmt.Sprintf("key%d", i+1)) == nil {
			t.Errorf("key%d is missing", i+1)
		}
	}
}

// Pushes and pops at a chunk's edge reuse the chunk popped empty; what they leave is read back
// like any other list.
func TestListChunkEdge(t *testing.T) {
	t.Parallel()
	var l List
	var want [][]byte
	for i := range 2 * chunkValues {
		v := fmt.Appendf(nil, "v%d", i)
		l.PushBack(v)
		want = append(want, v)
	}
	for i := range 20 {
		v := fmt.Appendf(nil, "edge%d-%s", i, strings.Repeat("x", i*10))
		l.PushBack(v) // the first value of a new chunk: the spare's, after the first round
		want = append(want, v)
		checkList(t, fmt.Sprintf("round %d, pushed", i), &l, want)
		l.PopBack()
		want = want[:len(want)-1]
		if i%2 == 1 {
			l.PopBack() // below the edge and back, so the full chunk is rewritten too
			want = want[:len(want)-1]
			v := fmt.Appendf(nil, "refill%d", i)
			l.PushBack(v)
			want = append(want, v)
		}
		checkList(t, fmt.Sprintf("round %d, popped", i), &l, want)
	}
}
