package linearize

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// op builds an operation; ret < 0 marks it Unknown.
func op(client int, in, out any, call, ret int) Operation {
	o := Operation{ClientID: client, Input: in, Output: out, Call: time.Duration(call), Return: time.Duration(ret)}
	if ret < 0 {
		o.Unknown, o.Return = true, 0
	}
	return o
}

func w(v string) RegisterInput { return RegisterInput{Kind: Write, Value: v} }

var r = RegisterInput{Kind: Read}

func saw(v string) RegisterOutput { return RegisterOutput{Value: v} }

func cas(from, to string) RegisterInput {
	return RegisterInput{Kind: CompareAndSet, Expect: from, Value: to}
}

var (
	ok     = RegisterOutput{}
	done   = RegisterOutput{Swapped: true}
	failed = RegisterOutput{Swapped: false}
)

func TestRegisterHistories(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		ops   []Operation
		want  Verdict
		stuck int // for NotLinearizable: the number of ops that cannot be placed
	}{
		{"empty", nil, Linearizable, 0},
		{"read of the initial value", []Operation{op(0, r, saw(""), 0, 1)}, Linearizable, 0},
		{"read of a value never written", []Operation{op(0, r, saw("x"), 0, 1)}, NotLinearizable, 1},
		{"write then read", []Operation{op(0, w("a"), ok, 0, 1), op(1, r, saw("a"), 2, 3)}, Linearizable, 0},
		{"stale read after a write returned", []Operation{op(0, w("a"), ok, 0, 1), op(1, r, saw(""), 2, 3)}, NotLinearizable, 1},
		{"read concurrent with a write sees the old value", []Operation{op(0, w("a"), ok, 0, 10), op(1, r, saw(""), 2, 3)}, Linearizable, 0},
		{"read concurrent with a write sees the new value", []Operation{op(0, w("a"), ok, 0, 10), op(1, r, saw("a"), 2, 3)}, Linearizable, 0},
		{"operations that touch in time are concurrent", []Operation{op(0, w("a"), ok, 0, 5), op(1, r, saw(""), 5, 6)}, Linearizable, 0},
		{"new-old inversion", []Operation{
			op(0, w("a"), ok, 0, 100),
			op(1, r, saw("a"), 10, 20),
			op(2, r, saw(""), 30, 40),
		}, NotLinearizable, 1},
		{"two writes, reads in either order", []Operation{
			op(0, w("a"), ok, 0, 10), op(1, w("b"), ok, 0, 10),
			op(2, r, saw("b"), 1, 5), op(3, r, saw("a"), 6, 9),
			op(2, r, saw("a"), 11, 12),
		}, Linearizable, 0},
		{"two writes cannot be undone", []Operation{
			op(0, w("a"), ok, 0, 10), op(1, w("b"), ok, 0, 10),
			op(2, r, saw("b"), 11, 12), op(3, r, saw("a"), 13, 14),
		}, NotLinearizable, 1},
		{"cas sequence", []Operation{
			op(0, cas("", "a"), done, 0, 1), op(1, cas("", "b"), failed, 2, 3), op(0, cas("a", "c"), done, 4, 5), op(1, r, saw("c"), 6, 7),
		}, Linearizable, 0},
		{"two concurrent cas from the same value both succeed", []Operation{
			op(0, cas("", "a"), done, 0, 10), op(1, cas("", "b"), done, 0, 10),
		}, NotLinearizable, 1},
		{"a failed cas when it must have succeeded", []Operation{
			op(0, w("a"), ok, 0, 1), op(1, cas("a", "b"), failed, 2, 3),
		}, NotLinearizable, 1},
		// Unknown outcomes.
		{"unknown write that must have happened", []Operation{
			op(0, w("a"), nil, 0, -1), op(1, r, saw("a"), 5, 6), op(1, r, saw("a"), 7, 8),
		}, Linearizable, 0},
		{"unknown write that must not have happened", []Operation{
			op(0, w("a"), nil, 0, -1), op(1, r, saw(""), 5, 6), op(1, r, saw(""), 100, 101),
		}, Linearizable, 0},
		{"unknown write that happened late", []Operation{
			op(0, w("a"), nil, 0, -1), op(1, r, saw(""), 5, 6), op(1, r, saw("a"), 100, 101),
		}, Linearizable, 0},
		{"unknown write cannot be undone", []Operation{
			op(0, w("a"), nil, 0, -1), op(1, r, saw("a"), 5, 6), op(1, r, saw(""), 7, 8),
		}, NotLinearizable, 1},
		{"unknown write cannot take effect before its call", []Operation{
			op(1, r, saw("a"), 0, 1), op(0, w("a"), nil, 5, -1),
		}, NotLinearizable, 1},
		{"unknown cas decides by the state", []Operation{
			op(0, w("x"), ok, 0, 1), op(0, cas("x", "y"), nil, 2, -1), op(1, r, saw("y"), 5, 6),
		}, Linearizable, 0},
		{"unknown cas that cannot swap", []Operation{
			op(0, w("x"), ok, 0, 1), op(0, cas("q", "y"), nil, 2, -1), op(1, r, saw("y"), 5, 6),
		}, NotLinearizable, 1},
		{"wrong input type", []Operation{op(0, "read", saw(""), 0, 1)}, NotLinearizable, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Check(context.Background(), RegisterModel(), tc.ops)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.want {
				t.Fatalf("verdict %v, want %v\n%v", res.Verdict, tc.want, res.Counterexample)
			}
			if tc.want != NotLinearizable {
				if res.Counterexample != nil {
					t.Fatalf("counterexample for a %v history", res.Verdict)
				}
				return
			}
			ce := res.Counterexample
			if ce == nil || len(ce.Stuck) != tc.stuck || len(ce.Linearized)+len(ce.Stuck) > len(tc.ops) || len(ce.States) != len(ce.Linearized) {
				t.Fatalf("counterexample %+v, want %d stuck", ce, tc.stuck)
			}
			var buf bytes.Buffer
			if err := ce.WriteHTML(&buf); err != nil || !strings.Contains(buf.String(), "<svg") || !strings.HasSuffix(buf.String(), "</html>\n") {
				t.Fatalf("HTML: %v\n%s", err, buf.String())
			}
		})
	}
}

func kv(kind OpKind, key, value string) KVInput { return KVInput{Kind: kind, Key: key, Value: value} }

func TestKVHistories(t *testing.T) {
	t.Parallel()
	absent := KVOutput{}
	found := func(v string) KVOutput { return KVOutput{Value: v, Found: true} }
	casAbsent := KVInput{Kind: CompareAndSet, Key: "k", Value: "v", ExpectAbsent: true}
	for _, tc := range []struct {
		name string
		ops  []Operation
		want Verdict
	}{
		{"keys start absent", []Operation{op(0, kv(Read, "k", ""), absent, 0, 1)}, Linearizable},
		{"an absent key is not the empty string", []Operation{op(0, kv(Read, "k", ""), found(""), 0, 1)}, NotLinearizable},
		{"keys are independent", []Operation{
			op(0, kv(Write, "a", "1"), KVOutput{}, 0, 1), op(0, kv(Write, "b", "2"), KVOutput{}, 2, 3),
			op(1, kv(Read, "a", ""), found("1"), 4, 5), op(1, kv(Read, "b", ""), found("2"), 4, 5), op(1, kv(Read, "c", ""), absent, 4, 5),
		}, Linearizable},
		{"a stale read on one key", []Operation{
			op(0, kv(Write, "a", "1"), KVOutput{}, 0, 1), op(0, kv(Write, "b", "2"), KVOutput{}, 2, 3),
			op(1, kv(Read, "a", ""), found("1"), 4, 5), op(1, kv(Read, "b", ""), absent, 4, 5),
		}, NotLinearizable},
		{"cas on an absent key", []Operation{
			op(0, casAbsent, KVOutput{Swapped: true}, 0, 1), op(1, casAbsent, KVOutput{Swapped: false}, 2, 3),
			op(1, kv(Read, "k", ""), found("v"), 4, 5),
		}, Linearizable},
		{"cas expecting absent on a present key", []Operation{
			op(0, kv(Write, "k", ""), KVOutput{}, 0, 1), op(1, casAbsent, KVOutput{Swapped: true}, 2, 3),
		}, NotLinearizable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Check(context.Background(), KVModel(), tc.ops)
			if err != nil || res.Verdict != tc.want {
				t.Fatalf("verdict %v (%v), want %v\n%v", res.Verdict, err, tc.want, res.Counterexample)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	if _, err := Check(context.Background(), Model{}, nil); !errors.Is(err, ErrBadModel) {
		t.Errorf("empty model: %v", err)
	}
	m := Model{Init: func() any { return map[string]string{} }, Step: func(s, _, _ any) (bool, any) { return true, s }}
	if _, err := Check(context.Background(), m, nil); !errors.Is(err, ErrBadModel) {
		t.Errorf("map state without Equal: %v", err)
	}
	m.Equal = func(a, b any) bool { return len(a.(map[string]string)) == len(b.(map[string]string)) }
	if res, err := Check(context.Background(), m, []Operation{op(0, nil, nil, 0, 1)}); err != nil || res.Verdict != Linearizable {
		t.Errorf("map state with Equal: %v %v", res.Verdict, err)
	}
	if _, err := Check(context.Background(), RegisterModel(), []Operation{op(0, r, saw(""), 5, 4)}); !errors.Is(err, ErrBadHistory) {
		t.Errorf("return before call: %v", err)
	}
}

func TestBudget(t *testing.T) {
	t.Parallel()
	h := generate(newRand(1), genConfig{ops: 20000, clients: 4, values: 3})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Check(ctx, RegisterModel(), h)
	if err != nil || res.Verdict != Unknown || res.Counterexample != nil {
		t.Fatalf("cancelled check: %v %v", res.Verdict, err)
	}
	if res, err := CheckTimeout(RegisterModel(), generate(newRand(3), genConfig{ops: 100, clients: 3, values: 3}), time.Minute); err != nil || res.Verdict != Linearizable {
		t.Fatalf("CheckTimeout: %v %v", res.Verdict, err)
	}
}

func TestHTMLEscapesValues(t *testing.T) {
	t.Parallel()
	res, _ := Check(context.Background(), RegisterModel(), []Operation{
		op(0, w("<script>x</script>"), ok, 0, 1), op(1, r, saw("&"), 2, 3),
	})
	var buf bytes.Buffer
	if err := res.Counterexample.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if strings.Contains(s, "<script>") || !strings.Contains(s, "&lt;script&gt;") || !strings.Contains(s, "&amp;") {
		t.Fatalf("not escaped:\n%s", s)
	}
}

func TestHTMLOfLongPrefixIsBounded(t *testing.T) {
	t.Parallel()
	h := generate(newRand(2), genConfig{ops: 2000, clients: 3, values: 4})
	end := h[len(h)-1].Return + 10
	for _, o := range h {
		end = max(end, o.Return+10)
	}
	h = append(h, op(9, r, saw("never written"), int(end), int(end)+1))
	res, err := Check(context.Background(), RegisterModel(), h)
	if err != nil || res.Verdict != NotLinearizable {
		t.Fatalf("%v %v", res.Verdict, err)
	}
	var buf bytes.Buffer
	if err := res.Counterexample.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "<rect"); n > maxShownPrefix+5 {
		t.Fatalf("%d operations drawn", n)
	}
	if !strings.Contains(buf.String(), "earlier operations") {
		t.Fatal("the cut is not explained")
	}
}

// TestFirstViolatingPartitionWins checks that the parallel check of partitions reports the
// first violating one, whatever the scheduling.
func TestFirstViolatingPartitionWins(t *testing.T) {
	t.Parallel()
	var h []Operation
	for i, key := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		h = append(h, generate(newRand(uint64(i)), genConfig{ops: 300, clients: 3, values: 3, keys: 1})...)
		for j := len(h) - 300; j < len(h); j++ {
			in := h[j].Input.(KVInput)
			in.Key = key
			h[j].Input = in
		}
		h = append(h, op(9, KVInput{Kind: Read, Key: key}, KVOutput{Value: "never", Found: true}, 1<<30, 1<<30+1))
	}
	for range 10 {
		res, err := Check(context.Background(), KVModel(), h)
		if err != nil || res.Verdict != NotLinearizable {
			t.Fatalf("%v %v", res.Verdict, err)
		}
		if key := res.Counterexample.Partition[0].Input.(KVInput).Key; key != "a" {
			t.Fatalf("counterexample from partition %q, want the first, a", key)
		}
	}
}

func TestUnknownReadsAreDropped(t *testing.T) {
	t.Parallel()
	h := []Operation{
		op(0, kv(Read, "k", ""), nil, 0, -1),
		op(1, kv(Write, "k", "v"), KVOutput{}, 1, 2),
		op(2, kv(Read, "j", ""), nil, 0, -1),
	}
	if parts := KVModel().Partition(h); len(parts) != 1 || len(parts[0]) != 1 {
		t.Fatalf("KV parts %v", parts)
	}
	if parts := RegisterModel().Partition([]Operation{op(0, r, nil, 0, -1), op(1, w("v"), ok, 1, 2)}); len(parts) != 1 || len(parts[0]) != 1 {
		t.Fatalf("register parts %v", parts)
	}
}
