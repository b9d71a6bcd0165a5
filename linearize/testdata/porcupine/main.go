// Command porcupine checks the same histories with ds440/linearize and with Porcupine
// (github.com/anishathalye/porcupine, the checker MIT 6.5840 uses) side by side and prints
// the ratio. It is a separate module under testdata so that ds440 itself stays standard
// library only; the go tool downloads Porcupine when it is run:
//
//	mkdir -p /tmp/hist
//	LINEARIZE_HISTORY_DIR=/tmp/hist go test -run TestWriteBenchmarkHistories ./linearize
//	cd linearize/testdata/porcupine && go run . /tmp/hist/*.jsonl
//
// Porcupine checks partitions in parallel; so does linearize, on up to GOMAXPROCS goroutines.
package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"ds440/linearize"

	"github.com/anishathalye/porcupine"
)

type pout struct {
	linearize.KVOutput
	unknown bool
}

type pstate struct {
	v       string
	present bool
}

var pmodel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		m := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(linearize.KVInput).Key
			if _, ok := m[k]; !ok {
				keys = append(keys, k)
			}
			m[k] = append(m[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, m[k])
		}
		return out
	},
	Init: func() any { return pstate{} },
	Step: func(state, input, output any) (bool, any) {
		s := state.(pstate)
		in := input.(linearize.KVInput)
		out := output.(pout)
		switch in.Kind {
		case linearize.Read:
			return out.unknown || (out.Found == s.present && (!s.present || out.Value == s.v)), s
		case linearize.Write:
			return true, pstate{in.Value, true}
		default:
			swap := s.present && !in.ExpectAbsent && s.v == in.Expect || !s.present && in.ExpectAbsent
			if out.unknown || out.Swapped == swap {
				if swap {
					return true, pstate{in.Value, true}
				}
				return true, s
			}
			return false, s
		}
	},
}

func main() {
	for _, name := range os.Args[1:] {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		h, err := linearize.ReadKVHistory(f)
		f.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		var ph []porcupine.Operation
		for _, op := range h {
			o := porcupine.Operation{ClientId: op.ClientID, Input: op.Input, Call: int64(op.Call), Return: int64(op.Return)}
			if op.Unknown {
				o.Return, o.Output = math.MaxInt64, pout{unknown: true}
			} else {
				o.Output = pout{KVOutput: op.Output.(linearize.KVOutput)}
			}
			ph = append(ph, o)
		}
		const rounds = 3
		var ours, theirs time.Duration
		for range rounds {
			t0 := time.Now()
			res, _ := linearize.Check(context.Background(), linearize.KVModel(), h)
			ours += time.Since(t0)
			t0 = time.Now()
			pr := porcupine.CheckOperationsTimeout(pmodel, ph, 5*time.Minute)
			theirs += time.Since(t0)
			if res.Verdict != linearize.Linearizable || pr != porcupine.Ok {
				fmt.Println("verdicts:", res.Verdict, pr)
			}
		}
		fmt.Printf("%-50s ops=%d  linearize %8v  porcupine %8v  ratio porcupine/ours %.2f\n", filepath.Base(name), len(h),
			(ours / rounds).Round(time.Millisecond), (theirs / rounds).Round(time.Millisecond), float64(theirs)/float64(ours))
	}
}
