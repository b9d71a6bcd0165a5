package linearize

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }

type genConfig struct {
	ops, clients, values int
	keys                 int     // 0: a register history; otherwise a KV history over this many keys
	unknown              float64 // probability that an operation's outcome is lost
}

// pending is a generated operation that has not returned yet.
type pending struct {
	idx  int
	done bool // took effect
}

// generate runs random operations of concurrent clients against a sequential object, each
// taking effect at one instant between its call and its return, so the history is
// linearizable by construction. A lost outcome is an Unknown operation that either took effect
// or (abandoned before its instant) never did.
func generate(rng *rand.Rand, c genConfig) []Operation {
	var h []Operation
	reg := ""
	kvs := map[string]string{}
	clients := make([]*pending, c.clients)
	value := func() string { return fmt.Sprintf("v%d", rng.IntN(c.values)) }
	issued, t := 0, 0
	for issued < c.ops || busy(clients) {
		t += 1 + rng.IntN(3)
		ci := rng.IntN(c.clients)
		p := clients[ci]
		switch {
		case p == nil && issued < c.ops:
			kind := []OpKind{Read, Read, Write, Write, CompareAndSet}[rng.IntN(5)]
			var in any
			if c.keys == 0 {
				r := RegisterInput{Kind: kind}
				switch kind {
				case Write:
					r.Value = value()
				case CompareAndSet:
					r.Value, r.Expect = value(), value()
				}
				in = r
			} else {
				r := KVInput{Kind: kind, Key: fmt.Sprintf("k%d", rng.IntN(c.keys))}
				switch kind {
				case Write:
					r.Value = value()
				case CompareAndSet:
					r.Value, r.Expect = value(), value()
					if rng.IntN(4) == 0 {
						r.Expect, r.ExpectAbsent = "", true
					}
				}
				in = r
			}
			h = append(h, Operation{ClientID: ci, Input: in, Call: time.Duration(t)})
			clients[ci] = &pending{idx: len(h) - 1}
			issued++
		case p == nil:
		case !p.done && rng.Float64() < c.unknown/2:
			h[p.idx].Unknown = true // abandoned; never takes effect
			clients[ci] = nil
		case !p.done:
			p.done = true
			var out any
			switch in := h[p.idx].Input.(type) {
			case RegisterInput:
				ok, next := RegisterModel().Step(reg, in, UnknownOutput{})
				if !ok {
					panic("model refused a generated operation")
				}
				switch in.Kind {
				case Read:
					out = RegisterOutput{Value: reg}
				case Write:
					out = RegisterOutput{}
				case CompareAndSet:
					out = RegisterOutput{Swapped: reg == in.Expect}
				}
				reg = next.(string)
			case KVInput:
				v, found := kvs[in.Key]
				swap := found && !in.ExpectAbsent && v == in.Expect || !found && in.ExpectAbsent
				switch in.Kind {
				case Read:
					out = KVOutput{Value: v, Found: found}
				case Write:
					out = KVOutput{}
				case CompareAndSet:
					out = KVOutput{Swapped: swap}
				}
				if in.Kind == Write || in.Kind == CompareAndSet && swap {
					kvs[in.Key] = in.Value
				}
			}
			h[p.idx].Output = out
		default:
			if rng.Float64() < c.unknown/2 {
				h[p.idx].Unknown = true
			} else {
				h[p.idx].Return = time.Duration(t)
			}
			clients[ci] = nil
		}
	}
	return h
}

func busy(cs []*pending) bool {
	for _, c := range cs {
		if c != nil {
			return true
		}
	}
	return false
}

func TestGeneratedHistoriesAreLinearizable(t *testing.T) {
	t.Parallel()
	for seed := range uint64(300) {
		c := genConfig{ops: 10 + int(seed%50), clients: 1 + int(seed%5), values: 1 + int(seed%4), keys: int(seed % 3), unknown: float64(seed%4) * 0.1}
		h := generate(newRand(seed), c)
		m := RegisterModel()
		if c.keys > 0 {
			m = KVModel()
		}
		res, err := Check(context.Background(), m, h)
		if err != nil || res.Verdict != Linearizable {
			t.Fatalf("seed %d %+v: %v %v\n%v", seed, c, res.Verdict, err, res.Counterexample)
		}
	}
}

// TestKnownBadPatternsAreRejected appends to generated histories, after every operation has
// returned, reads that no linearization can explain.
func TestKnownBadPatternsAreRejected(t *testing.T) {
	t.Parallel()
	for seed := range uint64(200) {
		h := generate(newRand(seed), genConfig{ops: 10 + int(seed%40), clients: 1 + int(seed%4), values: 3})
		var end time.Duration
		final := ""
		for _, o := range h {
			end = max(end, o.Return, o.Call)
		}
		// Without unknown operations the final value is known: the last write to take effect.
		res, _ := Check(context.Background(), RegisterModel(), append(h, Operation{ClientID: 99, Input: r, Output: RegisterOutput{}, Call: end + 1, Return: end + 2}))
		if res.Verdict == Linearizable {
			final = ""
		} else {
			for _, v := range []string{"v0", "v1", "v2"} {
				res, _ := Check(context.Background(), RegisterModel(), append(h, Operation{ClientID: 99, Input: r, Output: saw(v), Call: end + 1, Return: end + 2}))
				if res.Verdict == Linearizable {
					final = v
				}
			}
		}
		for _, bad := range [][]Operation{
			{op(99, r, saw("never written"), int(end)+1, int(end)+2)},
			{op(99, r, saw(final), int(end)+1, int(end)+2), op(98, w("fresh"), ok, int(end)+3, int(end)+4), op(99, r, saw(final), int(end)+5, int(end)+6)},
			{op(99, cas(final, "x"), done, int(end)+1, int(end)+2), op(98, cas(final, "y"), done, int(end)+1, int(end)+2)},
		} {
			res, err := Check(context.Background(), RegisterModel(), append(append([]Operation(nil), h...), bad...))
			if err != nil || res.Verdict != NotLinearizable {
				t.Fatalf("seed %d, appended %v: %v %v", seed, bad, res.Verdict, err)
			}
		}
	}
}

// benchConfigs are the histories of BenchmarkCheck: 10,000 operations (the target
// size), on one register or ten keys, with and without lost outcomes.
var benchConfigs = []genConfig{
	{ops: 10000, clients: 8, values: 5},
	{ops: 10000, clients: 8, values: 5, unknown: 0.05},
	{ops: 10000, clients: 12, values: 5},
	{ops: 10000, clients: 16, values: 5, keys: 10, unknown: 0.05},
}

func (c genConfig) String() string {
	return fmt.Sprintf("ops=%d/clients=%d/keys=%d/unknown=%g", c.ops, c.clients, c.keys, c.unknown)
}

// benchHistory is the history of c, with the register as the single key of a KV history when
// kv is set (the form testdata/porcupine reads).
func benchHistory(c genConfig, kv bool) ([]Operation, Model) {
	if kv && c.keys == 0 {
		c.keys = 1
	}
	if c.keys > 0 {
		return generate(newRand(7), c), KVModel()
	}
	return generate(newRand(7), c), RegisterModel()
}

func BenchmarkCheck(b *testing.B) {
	for _, c := range benchConfigs {
		h, m := benchHistory(c, false)
		b.Run(c.String(), func(b *testing.B) {
			for b.Loop() {
				res, err := Check(context.Background(), m, h)
				if err != nil || res.Verdict != Linearizable {
					b.Fatal(res.Verdict, err)
				}
			}
			b.ReportMetric(float64(len(h)*b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// TestWriteBenchmarkHistories writes the benchmark's histories as JSON Lines to the directory
// named by LINEARIZE_HISTORY_DIR, for the side-by-side run with Porcupine in
// testdata/porcupine. Without the variable it only checks that they encode.
func TestWriteBenchmarkHistories(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("LINEARIZE_HISTORY_DIR")
	for _, c := range benchConfigs {
		h, _ := benchHistory(c, true)
		var buf bytes.Buffer
		if err := WriteKVHistory(&buf, h); err != nil {
			t.Fatal(err)
		}
		if dir == "" {
			continue
		}
		name := filepath.Join(dir, strings.ReplaceAll(c.String(), "/", "_")+".jsonl")
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
