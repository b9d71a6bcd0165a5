package kvstore

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"ds440/actor"
	"ds440/internal/testutil"
)

// sim runs query-actor nodes on a virtual clock: no goroutines, no sockets. Messages between
// actors of one server take 1 ms, between servers `wan` ms, timers fire exactly when due; per
// (sender, receiver) pair delivery is FIFO, as the actor system promises. It checks the rate
// limit on every send and lets a test check convergence at the end.
type sim struct {
	t       *testing.T
	now     int64 // ms
	wan     int64
	queue   simQueue
	seq     int
	nodes   map[actor.ActorRef]*node
	started map[actor.ActorRef]int64
	sends   map[[2]actor.ActorRef]int
	servers []serverDesc
	winner  map[string]Entry // the newest version each key was ever Put with
	// drop, if set, decides whether a message between servers is lost, as the actor system
	// drops what it cannot deliver to an unreachable system.
	drop func() bool
	// lose, if set, decides whether a message from one server's address to another's is lost.
	lose      func(from, to string) bool
	dropped   int
	reports   []error // what the nodes reported
	dropAfter int64   // the nodes' dropAfter, ms, if not 0
	trace     func(from, to string, m any)
}

type simEvent struct {
	at  int64
	seq int
	to  actor.ActorRef
	msg any
}

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func newSim(t *testing.T, wan int64) *sim {
	return &sim{t: t, wan: wan, nodes: map[actor.ActorRef]*node{}, started: map[actor.ActorRef]int64{},
		sends: map[[2]actor.ActorRef]int{}, winner: map[string]Entry{}}
}

// startServer starts a server with n actors that knows the servers at indexes join, as
// NewServer does: every actor is configured with them, and actor 0 introduces the server.
func (s *sim) startServer(n int, join ...int) serverDesc {
	d := serverDesc{Addr: fmt.Sprintf("s%d:1", len(s.servers))}
	for i := range n {
		d.Counters = append(d.Counters, 10+i)
	}
	var remotes []serverDesc
	for _, j := range join {
		remotes = append(remotes, s.servers[j])
	}
	s.servers = append(s.servers, d)
	s.boot(d, remotes)
	return d
}

// boot starts fresh nodes for every actor of d, configured with remotes.
func (s *sim) boot(d serverDesc, remotes []serverDesc) {
	for i := range d.Counters {
		ref := *d.ref(i)
		nd := newNode(&ref, func() int64 { return s.now })
		if s.dropAfter > 0 {
			nd.dropAfter = s.dropAfter
		}
		s.nodes[ref] = nd
		s.started[ref] = s.now
		for pair := range s.sends {
			if pair[0] == ref {
				delete(s.sends, pair)
			}
		}
	}
	for i := range d.Counters {
		s.deliver(*d.ref(i), configMsg{Self: d, Index: i, Remotes: remotes, Join: i == 0})
	}
}

// restartServer replaces the nodes of server srv by empty ones that know no other server, as
// a kvstored restarted on the same address without DESC arguments. Messages in flight to the
// old ones reach the new ones.
func (s *sim) restartServer(srv int) {
	s.boot(s.servers[srv], nil)
}

// kill stops every actor of server srv at once, as SIGKILL does: what it has not sent is lost,
// and what is sent to it goes nowhere.
func (s *sim) kill(srv int) {
	for i := range s.servers[srv].Counters {
		delete(s.nodes, *s.servers[srv].ref(i))
	}
}

// runWithKeepalives runs until end, telling the first actor of every running server a
// keepaliveMsg every keepaliveInterval, as each server does.
func (s *sim) runWithKeepalives(end int64) {
	next := (s.now/keepaliveInterval.Milliseconds() + 1) * keepaliveInterval.Milliseconds()
	for ; next <= end; next += keepaliveInterval.Milliseconds() {
		s.runUntil(next)
		for _, d := range s.servers {
			s.deliver(*d.ref(0), keepaliveMsg{})
		}
	}
	s.runUntil(end)
}

// put makes a client Put on actor i of server srv now.
func (s *sim) put(srv, i int, key, value string) {
	ref := *s.servers[srv].ref(i)
	s.deliver(ref, putMsg{Key: key, Value: value, Reply: &actor.ActorRef{Address: "client", Counter: -1}})
	e := s.nodes[ref].replica.entries[key]
	if w, ok := s.winner[key]; !ok || merge(w, e) == e {
		s.winner[key] = e
	}
}

// deliver hands msg to the node at ref and sends what it returns.
func (s *sim) deliver(ref actor.ActorRef, msg any) {
	nd := s.nodes[ref]
	if nd == nil {
		return // its server was killed
	}
	for _, env := range nd.handle(msg) {
		if env.Report != nil {
			s.reports = append(s.reports, env.Report)
			continue
		}
		to := *env.To
		if s.trace != nil {
			s.trace(ref.Uid(), to.Uid(), env.Msg)
		}
		if _, ok := s.nodes[to]; !ok {
			continue // a reply to a client
		}
		pair := [2]actor.ActorRef{ref, to}
		s.sends[pair]++
		alive := float64(s.now-s.started[ref]) / 1000
		if rate := float64(s.sends[pair]) / math.Floor(alive+1.1); rate > 10 {
			s.t.Fatalf("t=%d ms: %s sent %s its %d-th message (%T): %.1f messages a second",
				s.now, ref.Uid(), to.Uid(), s.sends[pair], env.Msg, rate)
		}
		if to.Address != ref.Address && (s.drop != nil && s.drop() || s.lose != nil && s.lose(ref.Address, to.Address)) {
			s.dropped++
			continue
		}
		delay := env.After.Milliseconds()
		if env.After == 0 {
			delay = 1
			if to.Address != ref.Address {
				delay = s.wan
			}
		}
		s.seq++
		heap.Push(&s.queue, simEvent{at: s.now + delay, seq: s.seq, to: to, msg: env.Msg})
	}
}

// runUntil delivers every message due up to time end.
func (s *sim) runUntil(end int64) {
	for s.queue.Len() > 0 && s.queue[0].at <= end {
		ev := heap.Pop(&s.queue).(simEvent)
		s.now = ev.at
		s.deliver(ev.to, ev.msg)
	}
	s.now = max(s.now, end)
}

// converged checks that every actor holds exactly the newest version of every key Put.
func (s *sim) converged() {
	s.t.Helper()
	if s.queue.Len() > 0 {
		s.t.Fatalf("%d messages still in flight at t=%d ms", s.queue.Len(), s.now)
	}
	for ref, nd := range s.nodes {
		if nd.replica.Len() != len(s.winner) {
			s.t.Errorf("%s holds %d keys, want %d", ref.Uid(), nd.replica.Len(), len(s.winner))
		}
		for k, w := range s.winner {
			if e, ok := nd.replica.entries[k]; !ok || e != w {
				s.t.Errorf("%s: %q = %+v, want %+v", ref.Uid(), k, e, w)
			}
		}
	}
}

// Random writes on every actor of a cluster that grows while they happen, servers joining
// through any one running server, two of them at the same moment through different ones: no
// (actor, target) pair, self timers included, exceeds 10 messages a second, and every actor
// ends with the newest version of every key. 20 seeds in `make test`, 40 under DS440_SOAK.
func TestSimRandomWritesAndJoinsConverge(t *testing.T) {
	t.Parallel()
	for seed := range uint64(testutil.SoakSize(20, 40)) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			s := newSim(t, 200+rng.Int64N(60))
			s.startServer(1 + rng.IntN(4))
			s.startServer(1+rng.IntN(4), 0)
			joins := map[int64][][]int{
				700:  {{0}},
				1500: {{1}, {2}}, // concurrent joins through different servers
				2600: {{3}},
			}
			for now := int64(0); now < 4000; now += 1 + rng.Int64N(15) {
				s.runUntil(now)
				for _, via := range joins[now/100*100] {
					s.startServer(1+rng.IntN(4), via...)
				}
				delete(joins, now/100*100)
				srv := rng.IntN(len(s.servers))
				key := fmt.Sprint("k", rng.IntN(50))
				s.put(srv, rng.IntN(len(s.servers[srv].Counters)), key, fmt.Sprint("v", now))
			}
			s.runUntil(s.now + 10_000)
			s.converged()
		})
	}
}

// The WAN loses a third of the messages between servers for two seconds, joins and hellos
// included, while every server takes writes and a server joins: the lost syncs are sent again
// and every actor still ends with the newest version of every key.
func TestSimLossyWANConverges(t *testing.T) {
	t.Parallel()
	for seed := range uint64(30) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 2))
			s := newSim(t, 250)
			s.drop = func() bool { return s.now >= 500 && s.now < 2500 && rng.IntN(3) == 0 }
			s.startServer(1 + rng.IntN(4))
			s.startServer(1+rng.IntN(4), 0)
			for now := int64(0); now < 3000; now += 1 + rng.Int64N(20) {
				s.runUntil(now)
				if now >= 1000 && len(s.servers) == 2 {
					s.startServer(1+rng.IntN(4), 1)
				}
				srv := rng.IntN(len(s.servers))
				s.put(srv, rng.IntN(len(s.servers[srv].Counters)), fmt.Sprint("k", rng.IntN(40)), fmt.Sprint("v", now))
			}
			s.runUntil(s.now + 10_000)
			if s.dropped == 0 {
				t.Fatal("nothing was dropped")
			}
			s.converged()
		})
	}
}

// The WAN between two servers is cut for longer than dropAfter while both take writes: each
// actor drops the other server (reported) and keeps nothing for it; once the network heals
// the two find each other again and every actor ends with the newest version of every key.
func TestSimPartitionDropsAndRejoins(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 3))
			s := newSim(t, 100)
			s.dropAfter = 3000
			cut := func() bool { return s.now >= 500 && s.now < 9000 }
			s.drop = cut
			a := s.startServer(1 + rng.IntN(4))
			b := s.startServer(1+rng.IntN(4), 0)
			checked := false
			for now := int64(0); now < 12_000; now += 1 + rng.Int64N(15) {
				s.runUntil(now)
				if now >= 8500 && !checked {
					checked = true
					// Every actor has dropped the other side, and nothing is kept for it.
					for ref, nd := range s.nodes {
						other := b.Addr
						if ref.Address == b.Addr {
							other = a.Addr
						}
						if _, ok := nd.remotes[other]; ok {
							t.Errorf("t=%d: %s still has %s in its cluster", s.now, ref.Uid(), other)
						}
						if len(nd.unacked) > 0 {
							t.Errorf("t=%d: %s keeps %d unacknowledged batches", s.now, ref.Uid(), len(nd.unacked))
						}
					}
				}
				srv := rng.IntN(len(s.servers))
				s.put(srv, rng.IntN(len(s.servers[srv].Counters)), fmt.Sprint("k", rng.IntN(40)), fmt.Sprint("v", now))
			}
			s.runUntil(s.now + 20_000)
			drops := 0
			for _, err := range s.reports {
				if errors.Is(err, ErrServerDropped) {
					drops++
				}
			}
			if drops < 2 {
				t.Errorf("%d drops reported, want one per side at least: %v", drops, s.reports)
			}
			for _, nd := range s.nodes {
				if len(nd.dropped) > 0 {
					t.Errorf("%s still has dropped servers after the heal", nd.uid)
				}
			}
			s.converged()
		})
	}
}

// A server restarts empty on the same address without the cluster's descs: the first sync a
// peer sends it, a Put's or a keepalive's, makes it greet that peer, whose welcome brings it
// the whole state.
func TestSimRestartWithoutDescGetsTheWholeState(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 4))
			s := newSim(t, 100+rng.Int64N(150))
			s.startServer(1 + rng.IntN(4))
			s.startServer(1+rng.IntN(4), 0)
			s.startServer(1+rng.IntN(4), 1)
			for now := int64(0); now < 2000; now += 1 + rng.Int64N(15) {
				s.runUntil(now)
				srv := rng.IntN(len(s.servers))
				s.put(srv, rng.IntN(len(s.servers[srv].Counters)), fmt.Sprint("k", rng.IntN(40)), fmt.Sprint("v", now))
			}
			s.runUntil(s.now + 10_000) // everything is everywhere, so the restart loses nothing
			s.restartServer(1)
			if n := s.nodes[*s.servers[1].ref(0)].replica.Len(); n != 0 {
				t.Fatalf("the restarted server holds %d keys", n)
			}
			if seed%2 == 0 {
				s.put(0, 0, "after", "restart") // a sync reaches it at once
			} // else no one writes: a keepalive reaches it
			s.runUntil(s.now + keepaliveInterval.Milliseconds())
			for _, d := range s.servers {
				s.deliver(*d.ref(0), keepaliveMsg{}) // as each server does every keepaliveInterval
			}
			s.runUntil(s.now + 10_000)
			s.converged()
		})
	}
}

// A Put reaches one of two other servers, and its writer is killed before the other
// acknowledges it: only a writer sends its own Puts on, so without anti-entropy the other
// server would never get it. The two surviving servers find out from their digests and
// converge within 2 s of the kill.
func TestSimWriterKilledAfterReachingOnePeerConverges(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 5))
			s := newSim(t, 50+rng.Int64N(200))
			s.startServer(1 + rng.IntN(4))
			s.startServer(1+rng.IntN(4), 0)
			s.startServer(1+rng.IntN(4), 1)
			for now := int64(0); now < 2000; now += 1 + rng.Int64N(15) {
				s.runWithKeepalives(now)
				srv := rng.IntN(len(s.servers))
				s.put(srv, rng.IntN(len(s.servers[srv].Counters)), fmt.Sprint("k", rng.IntN(40)), fmt.Sprint("v", now))
			}
			s.runWithKeepalives(s.now + 5000) // everything is everywhere
			writer, reached, missed := s.servers[0].Addr, s.servers[1], s.servers[2]
			s.lose = func(from, to string) bool { return from == writer && to == missed.Addr }
			s.put(0, rng.IntN(len(s.servers[0].Counters)), "lost", "once")
			s.put(0, rng.IntN(len(s.servers[0].Counters)), fmt.Sprint("k", rng.IntN(40)), "also")
			for !s.holdsEverywhere(reached) {
				s.runUntil(s.now + 1)
			}
			s.kill(0)
			killed := s.now
			for !s.holdsEverywhere(missed) {
				if s.now-killed > 2000 {
					t.Fatalf("%s still lacks Puts that %s holds %d ms after their writer died",
						missed.Addr, reached.Addr, s.now-killed)
				}
				s.runWithKeepalives(s.now + 10)
			}
			t.Logf("converged %d ms after the kill", s.now-killed)
		})
	}
}

// holdsEverywhere reports whether every actor of server d holds the newest version of every
// key Put.
func (s *sim) holdsEverywhere(d serverDesc) bool {
	for i := range d.Counters {
		nd := s.nodes[*d.ref(i)]
		for k, w := range s.winner {
			if nd.replica.entries[k] != w {
				return false
			}
		}
	}
	return true
}
