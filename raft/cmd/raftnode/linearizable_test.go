package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ds440/internal/testutil"
	"ds440/linearize"
)

// kvClient is one client of the store as a checker sees it: it numbers its writes, retries
// each (with the same number) on other servers until it gets an answer or gives up, and records
// every operation from its first call to its final answer.
type kvClient struct {
	id    uint64
	seq   uint64
	addrs []string
	guess int // index in addrs of the server it believes leads
	http  *http.Client
}

// errGaveUp means no server answered in time: the operation's outcome is unknown.
var errGaveUp = errors.New("no answer")

// do runs one operation until a definite answer, following the leader hint of a 421.
func (c *kvClient) do(in linearize.KVInput, giveUp time.Time) (linearize.KVOutput, error) {
	q := url.Values{}
	method := http.MethodPut
	switch in.Kind {
	case linearize.Read:
		method = http.MethodGet
		q.Set("consistent", "1")
	case linearize.CompareAndSet:
		if in.ExpectAbsent {
			q.Set("expect-absent", "1")
		} else {
			q.Set("expect", in.Expect)
		}
	}
	if method == http.MethodPut {
		c.seq++
		q.Set("client", fmt.Sprint(c.id))
		q.Set("seq", fmt.Sprint(c.seq))
	}
	for try := 1; time.Now().Before(giveUp); try++ {
		if try%(2*len(c.addrs)) == 0 {
			time.Sleep(50 * time.Millisecond) // real time: no server could answer; an election takes this long
		}
		addr := c.addrs[c.guess]
		req, _ := http.NewRequest(method, "http://"+addr+"/kv/"+url.PathEscape(in.Key)+"?"+q.Encode(), strings.NewReader(in.Value))
		resp, err := c.http.Do(req)
		if err != nil {
			c.guess = (c.guess + 1) % len(c.addrs)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			if in.Kind == linearize.Read {
				return linearize.KVOutput{Value: string(body), Found: true}, nil
			}
			return linearize.KVOutput{Swapped: true}, nil
		case http.StatusNotFound:
			return linearize.KVOutput{}, nil
		case http.StatusPreconditionFailed:
			return linearize.KVOutput{Swapped: false}, nil
		case http.StatusMisdirectedRequest:
			next := (c.guess + 1) % len(c.addrs)
			for i, a := range c.addrs {
				if strings.Contains(string(body), `"leader":"`+a+`"`) {
					next = i
				}
			}
			c.guess = next
		default: // 409, 504: not applied, or not yet known; the same seq is safe to retry
			c.guess = (c.guess + 1) % len(c.addrs)
		}
	}
	return linearize.KVOutput{}, errGaveUp
}

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
			cl := &kvClient{id: uint64(ci + 1), addrs: c.http, guess: ci % len(c.http), http: &http.Client{Timeout: 3 * time.Second}}
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
				out, err := cl.do(in, time.Now().Add(10*time.Second))
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
