package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ds440/internal/testutil"
	"ds440/internal/workload"
	"ds440/linearize"
)

// TestProcessesLinearizable runs concurrent clients doing reads, writes and compare-and-sets
// on two keys against three raftnode processes, kills the leader part way, and checks the
// recorded history with the linearizability checker.
func TestProcessesLinearizable(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	c := startCluster(t, 3, "-commit-timeout", "2s", "-snapshot-every", "25", "-election-timeout", "1s")
	l := c.leader(-1)

	const clients, perClient = 4, 40
	var (
		mu      sync.Mutex
		history []linearize.Operation
		done    atomic.Int64
		third   = make(chan struct{}, 1)
	)
	start := time.Now()
	var wg sync.WaitGroup
	for ci := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(ci), 42))
			cl := &workload.RaftKV{ID: uint64(ci + 1), Addrs: c.http, HTTP: &http.Client{Timeout: 3 * time.Second}}
			last := map[string]string{}
			for j := range perClient {
				key := []string{"a", "b"}[rng.IntN(2)]
				in := linearize.KVInput{Key: key}
				switch rng.IntN(5) {
				case 0, 1:
					in.Kind = linearize.Read
				case 2, 3:
					in.Kind, in.Value = linearize.Write, fmt.Sprintf("c%d-%d", ci, j)
				default:
					in.Kind, in.Value = linearize.CompareAndSet, fmt.Sprintf("c%d-%d", ci, j)
					v, ok := last[key]
					in.Expect, in.ExpectAbsent = v, !ok
				}
				op := linearize.Operation{ClientID: ci, Input: in, Call: time.Since(start)}
				out, err := cl.Do(in, time.Now().Add(10*time.Second))
				op.Return, op.Output, op.Unknown = time.Since(start), out, err != nil
				if in.Kind == linearize.Read && err == nil && out.Found {
					last[key] = out.Value
				}
				mu.Lock()
				history = append(history, op)
				mu.Unlock()
				if done.Add(1) == clients*perClient/3 {
					third <- struct{}{}
				}
			}
		}()
	}
	testutil.Recv(t, third, 60*time.Second)
	c.procs[l].Kill()
	wg.Wait()

	unknown := 0
	for _, op := range history {
		if op.Unknown {
			unknown++
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := linearize.Check(ctx, linearize.KVModel(), history)
	t.Logf("%d operations (%d with unknown outcome) in %v; leader %d killed after a third: %v",
		len(history), unknown, time.Since(start).Round(time.Millisecond), l, res.Verdict)
	if err != nil || res.Verdict != linearize.Linearizable {
		if res.Counterexample != nil {
			f, ferr := os.CreateTemp("", "raftnode-violation-*.html")
			if ferr == nil {
				_ = res.Counterexample.WriteHTML(f)
				f.Close()
				t.Logf("timeline: %s", f.Name())
			}
			t.Log(res.Counterexample)
		}
		t.Fatalf("history %v (%v)", res.Verdict, err)
	}
}
