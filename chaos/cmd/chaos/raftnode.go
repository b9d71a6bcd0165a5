package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"ds440/chaos"
	"ds440/internal/freeport"
	"ds440/internal/workload"
	"ds440/linearize"
)

// runRaftnode runs a raftnode cluster behind a Net, lets clients read, write and
// compare-and-set a few keys while the nemesis partitions the network, kills and restarts
// servers and pauses them, then checks the whole history for linearizability.
func runRaftnode(ctx context.Context, r *run) (string, error) {
	n := r.opts.raftnodeServers
	raftAddrs, httpAddrs := make([]string, n), make([]string, n)
	for i := range n {
		for _, a := range []*string{&raftAddrs[i], &httpAddrs[i]} {
			p, err := freeport.TCP(1)
			if err != nil {
				return "", err
			}
			*a = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		}
	}
	network, err := chaos.NewNet(raftAddrs, false, r.rng.Uint64())
	if err != nil {
		return "", err
	}
	defer network.Close()
	procs := make([]*chaos.Process, n)
	for i := range n {
		procs[i] = &chaos.Process{
			Name: fmt.Sprintf("raftnode-%d", i),
			Bin:  r.bin["ds440/raft/cmd/raftnode"],
			Args: []string{
				"-id", strconv.Itoa(i),
				"-peers", strings.Join(network.PeerAddrs(i), ","),
				"-clients", strings.Join(httpAddrs, ","),
				"-http", httpAddrs[i],
				"-data", filepath.Join(r.dir, fmt.Sprintf("node%d", i)),
				"-commit-timeout", "1s",
			},
			Log: filepath.Join(r.dir, fmt.Sprintf("node%d.log", i)),
		}
		if err := procs[i].Start(); err != nil {
			return "", err
		}
		defer procs[i].Kill()
	}
	for i, a := range httpAddrs {
		if err := waitListening(ctx, a, 30*time.Second); err != nil {
			return "", fmt.Errorf("raftnode %d did not start: %v\n%s", i, err, procs[i].Tail(2000))
		}
	}

	// Clients: sequential operations each, on a few keys, until the run's time is up.
	const clients = 5
	keys := []string{"x", "y", "z"}
	var (
		mu      sync.Mutex
		history []linearize.Operation
	)
	start := time.Now()
	workCtx, stopWork := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for ci := range clients {
		seed := r.rng.Uint64()
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(ci)))
			cl := &workload.RaftKV{
				ID: uint64(ci + 1), Addrs: httpAddrs, StaleReads: r.opts.staleReads,
				HTTP: &http.Client{Timeout: time.Second},
			}
			last := map[string]string{}
			for j := 0; workCtx.Err() == nil; j++ {
				in := randomOp(rng, keys, last, fmt.Sprintf("%d.%d", ci, j))
				op := linearize.Operation{ClientID: ci, Input: in, Call: time.Since(start)}
				out, err := cl.Do(in, time.Now().Add(3*time.Second))
				op.Return, op.Output, op.Unknown = time.Since(start), out, err != nil
				if in.Kind == linearize.Read && err == nil && out.Found {
					last[in.Key] = out.Value
				}
				mu.Lock()
				history = append(history, op)
				mu.Unlock()
			}
		})
	}

	// The nemesis: a fault, a while under it, then healing and a quieter while, over and over.
	faults := 0
	deadline := time.Now().Add(r.duration)
	// A fault every few seconds whatever the length of the run (a short run gets shorter ones).
	period := min(max(r.duration/40, 500*time.Millisecond), 3*time.Second)
	killed := map[int]bool{}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		desc := nemesis(r.rng, network, procs, killed)
		faults++
		r.log("fault %d: %s", faults, desc)
		sleep(ctx, r.jitter(period))
		network.Heal()
		for i, p := range procs {
			if p.Paused() {
				p.Resume()
			}
			if killed[i] && r.rng.IntN(2) == 0 { // some stay down across the next fault
				if err := p.Start(); err != nil {
					stopWork()
					wg.Wait()
					return "", err
				}
				delete(killed, i)
			}
		}
		sleep(ctx, r.jitter(period/2))
	}
	network.Heal()
	for i, p := range procs {
		if killed[i] {
			p.Start()
		}
		if p.Paused() {
			p.Resume()
		}
	}
	stopWork()
	wg.Wait()

	unknown := 0
	for _, op := range history {
		if op.Unknown {
			unknown++
		}
	}
	r.log("%d operations (%d with unknown outcome) under %d faults; checking", len(history), unknown, faults)
	checkStart := time.Now()
	res, err := linearize.CheckTimeout(linearize.KVModel(), history, time.Minute)
	if err != nil {
		return "", err
	}
	took := time.Since(checkStart).Round(time.Millisecond)
	if f, err := os.Create(filepath.Join(r.dir, "history.jsonl")); err == nil {
		linearize.WriteKVHistory(f, history)
		f.Close()
	}
	switch res.Verdict {
	case linearize.Linearizable:
		if len(history)-unknown == 0 {
			return "", fmt.Errorf("no operation completed under %d faults: the run proves nothing", faults)
		}
		return fmt.Sprintf("%d operations (%d unknown) under %d faults: linearizable (checked in %v)", len(history), unknown, faults, took), nil
	case linearize.NotLinearizable:
		page := filepath.Join(r.dir, "violation.html")
		if f, err := os.Create(page); err == nil {
			res.Counterexample.WriteHTML(f)
			f.Close()
		}
		return "", fmt.Errorf("%d operations under %d faults: NOT linearizable (checked in %v); timeline in %s\n%v", len(history), faults, took, page, res.Counterexample)
	default:
		return "", fmt.Errorf("%d operations under %d faults: the checker ran out of its %v budget", len(history), faults, time.Minute)
	}
}

// randomOp returns a read (2 in 5), a write (2 in 5) or a compare-and-set against the last
// value the client read of the key, writing the unique value v.
func randomOp(rng *rand.Rand, keys []string, last map[string]string, v string) linearize.KVInput {
	in := linearize.KVInput{Key: keys[rng.IntN(len(keys))]}
	switch rng.IntN(5) {
	case 0, 1:
		in.Kind = linearize.Read
	case 2, 3:
		in.Kind, in.Value = linearize.Write, v
	default:
		in.Kind, in.Value = linearize.CompareAndSet, v
		prev, ok := last[in.Key]
		in.Expect, in.ExpectAbsent = prev, !ok
	}
	return in
}

// nemesis applies one random fault and describes it. At most a minority of servers is down
// (killed or paused) at once, so the cluster can make progress once the network heals.
func nemesis(rng *rand.Rand, network *chaos.Net, procs []*chaos.Process, killed map[int]bool) string {
	n := len(procs)
	down := len(killed)
	switch k := rng.IntN(5); {
	case k <= 1:
		return "partition: " + network.RandomPartition(rng)
	case k == 2 && down < (n-1)/2:
		i := pickUp(rng, procs, killed)
		procs[i].Kill()
		killed[i] = true
		return fmt.Sprintf("SIGKILL server %d", i)
	case k == 3 && down < (n-1)/2:
		i := pickUp(rng, procs, killed)
		procs[i].Pause()
		return fmt.Sprintf("SIGSTOP server %d", i)
	default:
		d := time.Duration(20+rng.IntN(80)) * time.Millisecond
		network.SetDelay(d)
		return fmt.Sprintf("delay every link %v", d)
	}
}

// pickUp returns a random server that is neither killed nor paused.
func pickUp(rng *rand.Rand, procs []*chaos.Process, killed map[int]bool) int {
	for {
		i := rng.IntN(len(procs))
		if !killed[i] && !procs[i].Paused() {
			return i
		}
	}
}
