package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ds440/chaos"
	"ds440/internal/freeport"
	"ds440/kvstore"
)

// The kvstore cluster of a run: kvServers kvstored processes of kvActors query actors each.
const (
	kvServers = 3
	kvActors  = 3
	kvClients = 6
)

// kvKeys are the keys the clients race on. Only the last-stamped Put to each can be checked
// for loss (the others lost to it by the rule), so clients also Put to keys of their own
// (kvOncePrefix), one Put each, every one of which must survive.
var kvKeys = []string{"k/a", "k/b", "k/c", "k/d", "k/e", "k/f"}

const kvOncePrefix = "once/"

// runKVStore runs a kvstore cluster of kvstored processes in cycles: clients Put unique values
// (recording the stamp each acknowledged Put was taken with) and Get and List, while the
// nemesis SIGKILLs servers and restarts them at the same address with and without the
// cluster's descs, pauses them with SIGSTOP, and partitions the network between them; then
// the clients stop, everything is healed, and the harness measures how long until every query
// actor of every server lists the same stamped map. That map is checked against the Puts
// (checkKV).
//
// Servers learn each other's real actor-system addresses from the descs, the welcome's member
// list and every sync's sender, so each kvstored is told, with -route, to dial every other
// through its own proxy (a chaos.Net): every link between two servers crosses a proxy the
// nemesis controls, whatever address the server learnt.
func runKVStore(ctx context.Context, r *run) (string, error) {
	cl := &kvCluster{r: r}
	defer cl.close()
	if err := cl.start(ctx); err != nil {
		return "", err
	}

	var (
		mu    sync.Mutex
		puts  []kvPut
		reads []kvRead
		ops   atomic.Int64
	)
	record := func(p []kvPut, rd []kvRead) {
		mu.Lock()
		puts, reads = append(puts, p...), append(reads, rd...)
		mu.Unlock()
	}

	cycle := min(max(r.duration/8, 2*time.Second), r.duration)
	deadline := time.Now().Add(r.duration)
	var converge []time.Duration
	var faults []string
	var last kvCheck
	for n := 1; n == 1 || time.Now().Add(cycle).Before(deadline); n++ {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		// Clients work while the nemesis strikes.
		workCtx, stopWork := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for ci := range kvClients {
			seed := r.rng.Uint64()
			wg.Go(func() {
				p, rd := cl.client(workCtx, rand.New(rand.NewPCG(seed, uint64(ci))), fmt.Sprintf("c%d.%d", ci, n), &ops)
				record(p, rd)
			})
		}
		end := time.Now().Add(cycle)
		for time.Now().Before(end) && ctx.Err() == nil {
			sleep(ctx, r.jitter(cycle/4))
			if f, err := cl.fault(ctx); err != nil {
				stopWork()
				wg.Wait()
				return "", err
			} else if f != "" {
				faults = append(faults, f)
				r.log("cycle %d: %s", n, f)
			}
		}
		// Heal: no new operation; resume and restart everything; wait for the operations
		// in flight (a call to a paused server returns once it is resumed); then poll.
		stopWork()
		if err := cl.heal(ctx); err != nil {
			wg.Wait()
			return "", err
		}
		healed := time.Now() // every server up and listening again
		wg.Wait()
		state, took, err := cl.converge(ctx, healed)
		if err != nil {
			return "", fmt.Errorf("cycle %d: %w (faults: %s)", n, err, strings.Join(faults, "; "))
		}
		converge = append(converge, took)
		if r.opts.kvstoreBroken == "drop-key" {
			dropOneKey(state)
		}
		mu.Lock()
		last, err = checkKV(puts, reads, state, kvRules{
			kills: cl.kills, pauses: cl.pauses, crashLossOK: r.opts.kvstoreCrashLoss, peerAcks: r.opts.kvstorePeerAcks,
			firstWins: r.opts.kvstoreBroken == "first-wins"})
		mu.Unlock()
		if err != nil {
			return "", fmt.Errorf("cycle %d: %w", n, err)
		}
		r.log("cycle %d: converged %v after healing; %s", n, took.Round(time.Millisecond), last)
	}
	if last.acked == 0 {
		return "", fmt.Errorf("no Put was acknowledged: the run proves nothing")
	}
	return fmt.Sprintf("%d ops, %d faults; converged after healing in %s; %s",
		ops.Load(), len(faults), distribution(converge, 2*time.Second), last), nil
}

// distribution describes durations: count, min, median, max, and how many exceeded target.
func distribution(ds []time.Duration, target time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	over := 0
	for _, d := range s {
		if d > target {
			over++
		}
	}
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	return fmt.Sprintf("%d heals min %s median %s max %s (%d over %v)",
		len(s), ms(s[0]), ms(s[len(s)/2]), ms(s[len(s)-1]), over, target)
}

// dropOneKey removes the first key written once from a converged state, as a store that lost
// a Put would: -kvstore-broken=drop-key, to see the loss check fail on a real history.
func dropOneKey(state map[string]kvstore.Entry) {
	var keys []string
	for k := range state {
		if strings.HasPrefix(k, kvOncePrefix) {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		delete(state, slices.Min(keys))
	}
}

// kvNode is one kvstored of the cluster.
type kvNode struct {
	proc  *chaos.Process
	port  int      // actor system port; query actor i on port+1+i
	desc  string   // fixed by the port: the actors are the system's first ones
	addrs []string // query actors' RPC addresses
	dead  bool     // killed, to be restarted
}

type kvCluster struct {
	r     *run
	nodes []*kvNode
	// kills[i] and pauses[i] are the times server i was killed and paused, to tell a Put
	// lost with its server from one lost otherwise.
	kills, pauses map[int][]time.Time
	net           *chaos.Net        // the links between the servers' actor systems
	partitioned   bool              // a partition is in force until the heal
	polls         []*kvstore.Client // one per query actor of every server, in order
	calls         sync.WaitGroup    // polls that outlived their timeout; close waits for them
}

func (c *kvCluster) start(ctx context.Context) error {
	c.kills, c.pauses = map[int][]time.Time{}, map[int][]time.Time{}
	var actorAddrs []string
	for i := range kvServers {
		port, err := freeport.TCP(kvActors + 1)
		if err != nil {
			return err
		}
		n := &kvNode{port: port}
		cs := make([]string, kvActors)
		for a := range kvActors {
			cs[a] = strconv.Itoa(a + 1)
			n.addrs = append(n.addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1+a)))
		}
		actorAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		n.desc = fmt.Sprintf("%s/%s", actorAddr, strings.Join(cs, ","))
		actorAddrs = append(actorAddrs, actorAddr)
		n.proc = &chaos.Process{
			Name: fmt.Sprintf("kvstored-%d", i),
			Bin:  c.r.bin["ds440/kvstore/cmd/kvstored"],
			Log:  filepath.Join(c.r.dir, fmt.Sprintf("kvstored%d.log", i)),
		}
		c.nodes = append(c.nodes, n)
	}
	// A proxy on every link between two actor systems; each server dials the others through
	// its own (kvstored -route). Clients reach the query actors directly.
	network, err := chaos.NewNet(actorAddrs, c.r.opts.kvstoreHang, c.r.rng.Uint64())
	if err != nil {
		return err
	}
	c.net = network
	for i, n := range c.nodes {
		// Each joins the ones before it, as an operator starts a cluster.
		if err := c.launch(ctx, i, true); err != nil {
			return err
		}
		// The desc is printed once the server is up, which may be just after its ports listen.
		printed := func() bool { return strings.Contains(n.proc.Tail(4096), n.desc) }
		for deadline := time.Now().Add(10 * time.Second); !printed() && time.Now().Before(deadline); {
			sleep(ctx, 10*time.Millisecond)
		}
		if !printed() {
			return fmt.Errorf("kvstored %d does not print the desc %s:\n%s", i, n.desc, n.proc.Tail(2000))
		}
	}
	for _, n := range c.nodes {
		for _, a := range n.addrs {
			c.polls = append(c.polls, kvstore.NewClient(fixedAddr(a)))
		}
	}
	return nil
}

// launch starts server i, with the descs of the others if withDescs, and waits until its
// query actors listen.
func (c *kvCluster) launch(ctx context.Context, i int, withDescs bool) error {
	n := c.nodes[i]
	n.proc.Args = []string{"-port", strconv.Itoa(n.port), "-actors", strconv.Itoa(kvActors), "-peer-acks", strconv.Itoa(c.r.opts.kvstorePeerAcks)}
	if d := c.r.opts.kvstoreDropAfter; d > 0 {
		n.proc.Args = append(n.proc.Args, "-drop-after", d.String())
	}
	for j, via := range c.net.PeerAddrs(i) {
		if j != i {
			n.proc.Args = append(n.proc.Args, "-route", c.nodes[j].desc[:strings.Index(c.nodes[j].desc, "/")]+"="+via)
		}
	}
	if withDescs {
		for j, o := range c.nodes {
			if j != i {
				n.proc.Args = append(n.proc.Args, o.desc)
			}
		}
	}
	if err := n.proc.Start(); err != nil {
		return err
	}
	for _, a := range n.addrs {
		if err := waitListening(ctx, a, 30*time.Second); err != nil {
			return fmt.Errorf("kvstored %d did not start: %v\n%s", i, err, n.proc.Tail(2000))
		}
	}
	n.dead = false
	return nil
}

// fault strikes once and describes what it did ("" if nothing): kill a server (and restart
// it soon after, with or without the descs, or leave it dead until the heal), pause it (and
// resume it soon after, or leave it paused until the heal), or partition the network
// (majority/minority, one isolated, or a bridge; healed soon after or at the heal). At least
// one server is left up; with -kvstore-overlap=false a fault strikes only while every server
// is up; -kvstore-kills=false and -kvstore-partitions=false leave those faults out.
func (c *kvCluster) fault(ctx context.Context) (string, error) {
	var up []int
	for i, n := range c.nodes {
		if !n.dead && !n.proc.Paused() {
			up = append(up, i)
		}
	}
	if len(up) <= 1 || !c.r.opts.kvstoreOverlap && len(up) < len(c.nodes) {
		return "", nil
	}
	rng := c.r.rng
	i := up[rng.IntN(len(up))]
	n := c.nodes[i]
	outage := c.r.jitter(time.Second)
	kinds := []int{3, 4}
	if c.r.opts.kvstoreKills {
		kinds = append(kinds, 0, 1, 2)
	}
	if c.r.opts.kvstorePartitions && !c.partitioned {
		kinds = append(kinds, 5, 6)
	}
	switch kinds[rng.IntN(len(kinds))] {
	case 5:
		what := c.net.RandomPartition(rng)
		sleep(ctx, outage)
		c.net.Heal()
		return fmt.Sprintf("partition %s for %v", what, outage.Round(time.Millisecond)), nil
	case 6:
		c.partitioned = true
		return fmt.Sprintf("partition %s until the heal", c.net.RandomPartition(rng)), nil
	case 0, 1:
		n.proc.Kill()
		c.kills[i] = append(c.kills[i], time.Now())
		n.dead = true
		sleep(ctx, outage)
		with := rng.IntN(2) == 0
		if err := c.launch(ctx, i, with); err != nil {
			return "", err
		}
		if with {
			return fmt.Sprintf("SIGKILL %d, restart with descs after %v", i, outage.Round(time.Millisecond)), nil
		}
		return fmt.Sprintf("SIGKILL %d, restart WITHOUT descs after %v", i, outage.Round(time.Millisecond)), nil
	case 2:
		n.proc.Kill()
		c.kills[i] = append(c.kills[i], time.Now())
		n.dead = true
		return fmt.Sprintf("SIGKILL %d until the heal", i), nil
	case 3:
		n.proc.Pause()
		c.pauses[i] = append(c.pauses[i], time.Now())
		sleep(ctx, outage)
		n.proc.Resume()
		return fmt.Sprintf("SIGSTOP %d for %v", i, outage.Round(time.Millisecond)), nil
	default:
		n.proc.Pause()
		c.pauses[i] = append(c.pauses[i], time.Now())
		return fmt.Sprintf("SIGSTOP %d until the heal", i), nil
	}
}

// heal resumes every paused server and restarts every dead one (with or without the descs).
// -kvstore-broken=no-resume pauses the last server instead of healing it: convergence must
// then fail.
func (c *kvCluster) heal(ctx context.Context) error {
	c.net.Heal()
	c.partitioned = false
	for i, n := range c.nodes {
		if n.proc.Paused() {
			n.proc.Resume()
		}
		if n.dead {
			with := c.r.rng.IntN(2) == 0
			if err := c.launch(ctx, i, with); err != nil {
				return err
			}
			c.r.log("heal: restart %d %s", i, map[bool]string{true: "with descs", false: "WITHOUT descs"}[with])
		}
	}
	if c.r.opts.kvstoreBroken == "no-resume" {
		c.nodes[len(c.nodes)-1].proc.Pause()
	}
	return nil
}

// converge polls every query actor of every server until all list the same stamped map, and
// returns it and how long after healed that was. No client writes meanwhile, and every
// acknowledged Put is on the replica of the actor that took it (unless its server was
// killed), so equal replicas hold the final state: nothing newer can arrive later.
func (c *kvCluster) converge(ctx context.Context, healed time.Time) (map[string]kvstore.Entry, time.Duration, error) {
	limit := c.r.opts.kvstoreConvergeLimit
	var diff string
	for {
		states := make([]map[string]kvstore.Entry, len(c.polls))
		var wg sync.WaitGroup
		for i, p := range c.polls {
			wg.Go(func() { states[i] = c.listWithin(p, time.Second) })
		}
		wg.Wait()
		at := time.Now()
		diff = ""
		for i := range states {
			if states[i] == nil {
				diff = fmt.Sprintf("query actor %d (server %d) does not answer", i, i/kvActors)
				break
			}
			if d := mapDiff(states[0], states[i]); d != "" {
				diff = fmt.Sprintf("query actor 0 and %d (server %d) differ: %s", i, i/kvActors, d)
				break
			}
		}
		if diff == "" {
			return states[0], at.Sub(healed), nil
		}
		if at.Sub(healed) > limit || ctx.Err() != nil {
			return nil, 0, fmt.Errorf("replicas still differ %v after healing: %s", limit, diff)
		}
		sleep(ctx, 20*time.Millisecond) // polling replicas: there is no event for "converged"
	}
}

// listWithin lists p's replica, or returns nil if it fails or takes longer than d (a paused
// server answers nothing; the call returns when it is resumed or the client closed).
func (c *kvCluster) listWithin(p *kvstore.Client, d time.Duration) map[string]kvstore.Entry {
	done := make(chan map[string]kvstore.Entry, 1)
	c.calls.Go(func() {
		m, err := p.ListStamped("")
		if err != nil {
			m = nil
		}
		done <- m
	})
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case m := <-done:
		return m
	case <-t.C:
		return nil
	}
}

func mapDiff(a, b map[string]kvstore.Entry) string {
	for k, e := range a {
		if f, ok := b[k]; !ok || f != e {
			return fmt.Sprintf("key %q: %+v vs %+v", k, e, f)
		}
	}
	for k, f := range b {
		if _, ok := a[k]; !ok {
			return fmt.Sprintf("key %q: absent vs %+v", k, f)
		}
	}
	return ""
}

func (c *kvCluster) close() {
	for _, p := range c.polls {
		p.Close()
	}
	for _, n := range c.nodes {
		n.proc.Kill()
	}
	if c.net != nil {
		c.net.Close()
	}
	c.calls.Wait()
}

// fixedAddr is a QueryRouter that always answers one address.
type fixedAddr string

func (a fixedAddr) NextAddr() string { return string(a) }

// pickAddr is a QueryRouter whose address its one user sets before each call.
type pickAddr struct{ addr string }

func (p *pickAddr) NextAddr() string { return p.addr }

// kvPut is one Put a client made: Acked with the stamp it was taken with, or with an unknown
// outcome (it may or may not have reached the store).
type kvPut struct {
	Key, Value string
	Server     int
	Invoked    time.Time
	Acked      bool
	Stamp      kvstore.Stamp
}

// kvRead is a value a Get or List returned.
type kvRead struct{ Key, Value string }

// client runs one client until ctx ends: Puts of unique values (prefix.n) to random shared
// keys and to keys of their own, and Gets and Lists of the shared keys, each at a random query
// actor of a random server.
func (c *kvCluster) client(ctx context.Context, rng *rand.Rand, prefix string, ops *atomic.Int64) ([]kvPut, []kvRead) {
	router := &pickAddr{}
	kc := kvstore.NewClient(router)
	defer kc.Close()
	var puts []kvPut
	var reads []kvRead
	for seq := 0; ctx.Err() == nil; seq++ {
		srv := rng.IntN(len(c.nodes))
		router.addr = c.nodes[srv].addrs[rng.IntN(kvActors)]
		key := kvKeys[rng.IntN(len(kvKeys))]
		switch k := rng.IntN(10); {
		case k < 6:
			value := fmt.Sprintf("%s.%d", prefix, seq)
			if k == 0 {
				key = kvOncePrefix + value
			}
			p := kvPut{Key: key, Value: value, Server: srv, Invoked: time.Now()}
			st, err := kc.PutStamped(p.Key, p.Value)
			p.Acked, p.Stamp = err == nil, st
			puts = append(puts, p)
		case k < 8:
			if v, ok, err := kc.Get(key); err == nil && ok {
				reads = append(reads, kvRead{key, v})
			}
		default:
			if m, err := kc.List("k/"); err == nil {
				for k, v := range m {
					reads = append(reads, kvRead{k, v})
				}
			}
		}
		ops.Add(1)
		if ctx.Err() == nil {
			// A short think time, so a dead server's errors do not spin the loop.
			sleep(ctx, time.Duration(rng.IntN(5))*time.Millisecond)
		}
	}
	return puts, reads
}

// kvCheck is what checkKV found.
type kvCheck struct {
	acked, unknown int // Puts acknowledged, and with an unknown outcome
	won            int // keys whose final value is an acknowledged Put
	once           int // of them, keys written once (kvOncePrefix)
	wonUnknown     int // keys whose final value is a Put with an unknown outcome
	overwritten    int // acknowledged Puts beaten by a later-stamped one
	crashLost      int // acknowledged Puts lost with their server's SIGKILL (kvRules.crashLossOK)
	manyLost       int // acknowledged Puts lost to more SIGKILLs than their copies (kvRules.peerAcks)
	reads          int // values read, each one some client wrote
}

func (k kvCheck) String() string {
	return fmt.Sprintf("%d acknowledged Puts: %d final winners (%d on keys written once), %d lost only to a later stamp, "+
		"%d lost with their server's SIGKILL, %d with more servers SIGKILLed than held them, 0 lost otherwise "+
		"(%d keys won by a Put with an unknown outcome, of %d such Puts); %d values read, all written by a client",
		k.acked, k.won, k.once, k.overwritten, k.crashLost, k.manyLost, k.wonUnknown, k.unknown, k.reads)
}

// kvRules are what checkKV needs besides the history: the faults, and what to accept.
type kvRules struct {
	kills, pauses map[int][]time.Time // when each server was killed, paused
	// crashLossOK accepts the loss of an acknowledged Put whose server was SIGKILLed before it
	// could pass the Put on: within crashWindow of the Put, or after a pause that began after
	// it. kvstored -peer-acks 0 keeps Puts in memory only and acknowledges a Put before
	// sending it on.
	crashLossOK bool
	// peerAcks is kvstored's -peer-acks: an acknowledged Put was held by its server and that
	// many others. Until the heal a partition or a pause may keep it from reaching the rest, so
	// once its server and peerAcks other servers are SIGKILLed after it was sent, every copy
	// may be gone: its loss is then beyond what kvstore promises (with -peer-acks 1, one crash).
	peerAcks  int
	firstWins bool // check against a wrong rule (the smallest stamp wins), to see the checker fail
}

// outnumbered reports whether every copy of the acknowledged Put p may have died: its server
// and at least peerAcks others were SIGKILLed after it was sent (checkKV runs at the end of
// the Put's cycle, so every kill recorded after p.Invoked came before that cycle's heal).
func (k kvRules) outnumbered(p kvPut) bool {
	if k.peerAcks == 0 {
		return false // a Put lives on its server alone: see crashed
	}
	killedAfter := func(i int) bool { return slices.ContainsFunc(k.kills[i], p.Invoked.Before) }
	if !killedAfter(p.Server) {
		return false
	}
	others := 0
	for i := range k.kills {
		if i != p.Server && killedAfter(i) {
			others++
		}
	}
	return others >= k.peerAcks
}

// crashWindow is how soon after a Put its server must be killed for the loss of the Put to be
// put down to the kill: well over the 150 ms a query actor batches Puts for.
const crashWindow = time.Second

// crashed returns why the Put p may have died with its server, or "" if no kill explains it.
func (k kvRules) crashed(p kvPut) string {
	for _, at := range k.kills[p.Server] {
		if !at.After(p.Invoked) {
			continue
		}
		if at.Sub(p.Invoked) <= crashWindow {
			return fmt.Sprintf("its server %d was SIGKILLed %v after it was sent", p.Server, at.Sub(p.Invoked).Round(time.Millisecond))
		}
		for _, paused := range k.pauses[p.Server] {
			if paused.After(p.Invoked) && paused.Before(at) {
				return fmt.Sprintf("its server %d was paused %v after it was sent, then SIGKILLed", p.Server, paused.Sub(p.Invoked).Round(time.Millisecond))
			}
		}
		return ""
	}
	return ""
}

// checkKV checks the converged state against every Put made: each key's final value was Put by
// a client, with the stamp that Put was acknowledged with; no acknowledged Put is lost except
// to a Put with a larger (time, uid) stamp, which is the last-writer-wins rule (or, if
// rules.crashLossOK, with its server's SIGKILL); and every value read was written by a client.
func checkKV(puts []kvPut, reads []kvRead, final map[string]kvstore.Entry, rules kvRules) (kvCheck, error) {
	var res kvCheck
	byValue := map[[2]string]kvPut{}
	for _, p := range puts {
		byValue[[2]string{p.Key, p.Value}] = p
		if p.Acked {
			res.acked++
		} else {
			res.unknown++
		}
	}
	for k, e := range final {
		p, ok := byValue[[2]string{k, e.Value}]
		switch {
		case !ok:
			return res, fmt.Errorf("key %q holds %q, which no client wrote", k, e.Value)
		case p.Acked && p.Stamp != e.Stamp:
			return res, fmt.Errorf("key %q holds %q stamped %+v, but that Put was acknowledged with stamp %+v", k, e.Value, e.Stamp, p.Stamp)
		case p.Acked:
			res.won++
			if strings.HasPrefix(k, kvOncePrefix) {
				res.once++
			}
		default:
			res.wonUnknown++
		}
	}
	if rules.firstWins {
		first := map[string]kvPut{}
		for _, p := range puts {
			if f, ok := first[p.Key]; p.Acked && (!ok || p.Stamp.Compare(f.Stamp) < 0) {
				first[p.Key] = p
			}
		}
		for k, p := range first {
			if final[k].Value != p.Value {
				return res, fmt.Errorf("(wrong rule: first writer wins) key %q holds %q, not the first-stamped acknowledged Put %q %+v", k, final[k].Value, p.Value, p.Stamp)
			}
		}
	}
	var lost []string
	for _, p := range puts {
		if !p.Acked {
			continue
		}
		e, ok := final[p.Key]
		switch c := e.Stamp.Compare(p.Stamp); {
		case !ok || c < 0:
			why := rules.crashed(p)
			if why != "" && rules.crashLossOK {
				res.crashLost++
				continue
			}
			if rules.outnumbered(p) {
				res.manyLost++
				continue
			}
			if why == "" {
				why = "no SIGKILL of its server explains it"
			}
			lost = append(lost, fmt.Sprintf("key %q: acknowledged Put %q stamped %+v is lost, final %+v; %s", p.Key, p.Value, p.Stamp, e, why))
		case c == 0 && e.Value != p.Value:
			return res, fmt.Errorf("key %q: acknowledged Put %q has the stamp %+v of the final value %q", p.Key, p.Value, p.Stamp, e.Value)
		case c > 0:
			res.overwritten++
		}
	}
	if len(lost) > 0 {
		return res, fmt.Errorf("%d of %d acknowledged Puts lost other than to a later stamp (first: %s)", len(lost), res.acked, lost[0])
	}
	for _, rd := range reads {
		if _, ok := byValue[[2]string{rd.Key, rd.Value}]; !ok {
			return res, fmt.Errorf("a read of key %q returned %q, which no client wrote", rd.Key, rd.Value)
		}
	}
	res.reads = len(reads)
	return res, nil
}
