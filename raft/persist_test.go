package raft

// Persistence tests (3C), modelled on MIT 6.5840's suite: peers crash and restart from what
// they persisted, alone and all together, under partitions, loss and reordering.

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
)

func TestPersist13C(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3C basic persistence")

		cfg.one(11, servers, true)

		// Crash and restart everyone.
		for i := range servers {
			cfg.start1(i)
		}
		for i := range servers {
			cfg.connect(i)
		}
		cfg.one(12, servers, true)

		leader1 := cfg.checkOneLeader()
		cfg.disconnect(leader1)
		cfg.start1(leader1)
		cfg.connect(leader1)
		cfg.one(13, servers, true)

		leader2 := cfg.checkOneLeader()
		cfg.disconnect(leader2)
		cfg.one(14, servers-1, true)
		cfg.start1(leader2)
		cfg.connect(leader2)
		cfg.wait(4, servers, -1) // wait for leader2 to rejoin before killing i3

		i3 := (cfg.checkOneLeader() + 1) % servers
		cfg.disconnect(i3)
		cfg.one(15, servers-1, true)
		cfg.start1(i3)
		cfg.connect(i3)
		cfg.one(16, servers, true)
		cfg.end()
	})
}

func TestPersist23C(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 5
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3C more persistence")

		index := 1
		for range iterations(3, 5) {
			cfg.one(10+index, servers, true)
			index++

			leader1 := cfg.checkOneLeader()
			cfg.disconnect((leader1 + 1) % servers)
			cfg.disconnect((leader1 + 2) % servers)
			cfg.one(10+index, servers-2, true)
			index++

			// The three that committed go away; two that missed it restart, a third later.
			cfg.disconnect((leader1 + 0) % servers)
			cfg.disconnect((leader1 + 3) % servers)
			cfg.disconnect((leader1 + 4) % servers)

			cfg.start1((leader1 + 1) % servers)
			cfg.start1((leader1 + 2) % servers)
			cfg.connect((leader1 + 1) % servers)
			cfg.connect((leader1 + 2) % servers)
			runFor(electionTimeout)

			// Only the restarted third brings a quorum with the committed entries.
			cfg.start1((leader1 + 3) % servers)
			cfg.connect((leader1 + 3) % servers)
			cfg.one(10+index, servers-2, true)
			index++

			cfg.connect((leader1 + 4) % servers)
			cfg.connect((leader1 + 0) % servers)
		}
		cfg.one(1000, servers, true)
		cfg.end()
	})
}

func TestPersist33C(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3C partitioned leader and one follower crash, leader restarts")

		cfg.one(101, 3, true)

		leader := cfg.checkOneLeader()
		cfg.disconnect((leader + 2) % servers)
		cfg.one(102, 2, true)

		cfg.crash1((leader + 0) % servers)
		cfg.crash1((leader + 1) % servers)
		cfg.connect((leader + 2) % servers)
		cfg.start1((leader + 0) % servers)
		cfg.connect((leader + 0) % servers)
		cfg.one(103, 2, true)

		cfg.start1((leader + 1) % servers)
		cfg.connect((leader + 1) % servers)
		cfg.one(104, servers, true)
		cfg.end()
	})
}

// TestPersistBeforeReply3C talks to one isolated peer directly and restarts it between
// requests: a vote it granted and entries it acknowledged must survive the crash, or two leaders
// can be elected in one term and committed entries can vanish.
func TestPersistBeforeReply3C(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3C votes and entries are persisted before the reply")
		for i := range servers {
			cfg.disconnect(i) // only the test talks to peer 1 now
		}
		const peer = 1
		term, _ := cfg.raft(peer).GetState()
		vt := term + 100 // far ahead of any term the peer reaches on its own meanwhile

		var v1 RequestVoteReply
		cfg.raft(peer).RequestVote(&RequestVoteArgs{Term: vt, CandidateID: 0, LastLogIndex: 1000, LastLogTerm: vt}, &v1)
		if !v1.VoteGranted {
			t.Fatalf("peer refused the first vote of term %d: %+v", vt, v1)
		}
		cfg.start1(peer)
		if got, _ := cfg.raft(peer).GetState(); got < vt {
			t.Fatalf("after a restart the term is %d, below the %d it had", got, vt)
		}
		var v2 RequestVoteReply
		cfg.raft(peer).RequestVote(&RequestVoteArgs{Term: vt, CandidateID: 2, LastLogIndex: 1000, LastLogTerm: vt}, &v2)
		if v2.VoteGranted {
			t.Fatalf("peer voted for 0 and, after a restart, for 2 in the same term %d", vt)
		}

		at := vt + 100
		var a AppendEntriesReply
		cfg.raft(peer).AppendEntries(&AppendEntriesArgs{Term: at, LeaderID: 0, Entries: []Entry{
			{Term: at, Command: 7}, {Term: at, Command: 8},
		}}, &a)
		if !a.Success {
			t.Fatalf("peer refused entries at the start of its log: %+v", a)
		}
		cfg.start1(peer)
		var v3 RequestVoteReply
		cfg.raft(peer).RequestVote(&RequestVoteArgs{Term: at + 100, CandidateID: 2, LastLogIndex: 1, LastLogTerm: at}, &v3)
		if v3.VoteGranted {
			t.Fatal("after a restart the peer voted for a candidate missing an entry it had acknowledged")
		}
		cfg.end()
	})
}

// TestFigure83C crashes leaders at random moments, mostly right after they took a new entry,
// producing the situations of the paper's Figure 8: entries from old terms that a new leader
// must not count as committed by replication alone.
func TestFigure83C(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 5
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3C Figure 8")

		cfg.one(randCmd(), 1, true)

		nup := servers
		for range iterations(200, 1000) {
			leader := -1
			for i := range servers {
				if rf := cfg.raft(i); rf != nil {
					if _, _, ok := rf.Start(randCmd()); ok {
						leader = i
					}
				}
			}

			if rand.IntN(1000) < 100 {
				randomSleep(electionTimeout / 2)
			} else {
				randomSleep(13 * time.Millisecond)
			}

			if leader != -1 {
				cfg.crash1(leader)
				nup--
			}
			if nup < 3 {
				if s := rand.IntN(servers); cfg.raft(s) == nil {
					cfg.start1(s)
					cfg.connect(s)
					nup++
				}
			}
		}

		for i := range servers {
			if cfg.raft(i) == nil {
				cfg.start1(i)
				cfg.connect(i)
			}
		}
		cfg.one(randCmd(), servers, true)
		cfg.end()
	})
}

// TestFigure8Scenario3C plays the paper's Figure 8 step by step with partitions: a leader
// must not commit an entry of an earlier term by counting the peers that store it, because a
// peer holding a newer entry at that index can still win an election and overwrite it.
func TestFigure8Scenario3C(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 5
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3C Figure 8, step by step")

		cfg.one(1, servers, true)
		hasEntry := func(i, index int) func() bool {
			return func() bool { return cfg.raft(i).Status().LastIndex >= index }
		}

		// (a) The leader stores x at index 2 on one follower only, then both are cut off.
		l1 := cfg.checkOneLeader()
		f1 := (l1 + 1) % servers
		others := []int{(l1 + 2) % servers, (l1 + 3) % servers, (l1 + 4) % servers}
		for _, i := range others {
			cfg.disconnect(i)
		}
		if _, _, ok := cfg.raft(l1).Start(2000); !ok {
			t.Fatal("the leader rejected Start")
		}
		testutil.Eventually(t, agreeDeadline, hasEntry(f1, 2), "the follower stores index 2")
		cfg.disconnect(l1)
		cfg.disconnect(f1)

		// (b) The other three elect a leader in a newer term, which stores y at index 2 on one
		// follower only, then both are cut off.
		for _, i := range others {
			cfg.connect(i)
		}
		l2 := cfg.checkOneLeader()
		var p, q int
		if rest := slices.DeleteFunc(slices.Clone(others), func(i int) bool { return i == l2 }); len(rest) == 2 {
			p, q = rest[0], rest[1]
		} else {
			t.Fatalf("leader %d is not among %v", l2, others)
		}
		cfg.disconnect(p)
		if _, _, ok := cfg.raft(l2).Start(3000); !ok {
			t.Fatal("the second leader rejected Start")
		}
		testutil.Eventually(t, agreeDeadline, hasEntry(q, 2), "the follower stores index 2")
		cfg.disconnect(l2)
		cfg.disconnect(q)

		// (c) The first pair and p form a majority. Its leader (of the first pair, whose logs are
		// newer than p's) copies x to p, so x is on a majority, but x is from an old term: it must
		// not commit without an entry of the leader's own term.
		cfg.connect(l1)
		cfg.connect(f1)
		cfg.connect(p)
		cfg.checkOneLeader()
		testutil.Eventually(t, agreeDeadline, hasEntry(p, 2), "x reaches p")
		runFor(3 * electionTimeout / 10) // heartbeats that would carry a wrong commit index
		if nd, cmd := cfg.nCommitted(2); nd > 0 {
			t.Fatalf("%d peers applied %v at index 2: an entry of an earlier term was committed by "+
				"counting replicas (Figure 8)", nd, cmd)
		}

		// (d) The second pair and p: y's term is newer than x's, so a peer with y leads and
		// overwrites x on p. Committing y must not contradict anything applied before.
		cfg.disconnect(l1)
		cfg.disconnect(f1)
		cfg.connect(l2)
		cfg.connect(q)
		cfg.one(4000, 3, true)
		if _, cmd := cfg.nCommitted(2); cmd != 3000 {
			t.Fatalf("index 2 holds %v, want the second leader's 3000", cmd)
		}

		for i := range servers {
			cfg.connect(i)
		}
		cfg.one(5000, servers, true)
		cfg.end()
	})
}

func TestUnreliableAgree3C(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 5
		cfg := makeConfig(t, servers, true, false)
		cfg.begin("3C unreliable agreement")

		var wg sync.WaitGroup
		defer wg.Wait() // even if the test stops early
		for iters := 1; iters < iterations(30, 50); iters++ {
			for j := range 4 {
				wg.Go(func() {
					if _, err := cfg.tryOne(100*iters+j, 1, true); err != nil {
						t.Error(err)
					}
				})
			}
			cfg.one(iters, 1, true)
		}
		cfg.setUnreliable(false)
		wg.Wait()
		cfg.one(100, servers, true)
		cfg.end()
	})
}

// TestFigure8Unreliable3C is Figure 8 with partitions instead of crashes on a network that
// loses, delays and, after a while, badly reorders messages.
func TestFigure8Unreliable3C(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 5
		cfg := makeConfig(t, servers, true, false)
		cfg.begin("3C Figure 8 (unreliable)")

		cfg.one(rand.IntN(10000), 1, true)

		iters := iterations(300, 1000)
		nup := servers
		for iter := range iters {
			if iter == iters/5 {
				cfg.setLongReordering(true)
			}
			leader := -1
			for i := range servers {
				if _, _, ok := cfg.raft(i).Start(rand.IntN(10000)); ok && cfg.isConnected(i) {
					leader = i
				}
			}

			if rand.IntN(1000) < 100 {
				randomSleep(electionTimeout / 2)
			} else {
				randomSleep(13 * time.Millisecond)
			}

			if leader != -1 && rand.IntN(1000) < int(electionTimeout/time.Millisecond)/2 {
				cfg.disconnect(leader)
				nup--
			}
			if nup < 3 {
				if s := rand.IntN(servers); !cfg.isConnected(s) {
					cfg.connect(s)
					nup++
				}
			}
		}

		for i := range servers {
			if !cfg.isConnected(i) {
				cfg.connect(i)
			}
		}
		cfg.one(rand.IntN(10000), servers, true)
		cfg.end()
	})
}

// churn has clients submit commands while peers disconnect, crash and restart at random, then
// checks that every command a client saw committed is in the final log.
func churn(t *testing.T, unreliable bool) {
	const (
		servers = 5
		clients = 3
	)
	cfg := makeConfig(t, servers, unreliable, false)
	if unreliable {
		cfg.begin("3C unreliable churn")
	} else {
		cfg.begin("3C churn")
	}

	var stop atomic.Bool
	t.Cleanup(func() { stop.Store(true) }) // runs before the cluster is torn down
	committed := make(chan []int, clients)
	for me := range clients {
		go func() {
			var values []int
			defer func() { committed <- values }()
			for !stop.Load() {
				x := randCmd()
				index, ok := -1, false
				for i := range servers {
					if rf := cfg.raft(i); rf != nil {
						if index1, _, ok1 := rf.Start(x); ok1 {
							index, ok = index1, true
						}
					}
				}
				if !ok {
					runFor(time.Duration(79+me*17) * time.Millisecond)
					continue
				}
				for _, backoff := range []time.Duration{10, 20, 50, 100, 200} {
					if nd, cmd := cfg.committed(index); nd > 0 {
						if cmd == x {
							values = append(values, x)
						}
						break
					}
					runFor(backoff * time.Millisecond)
				}
			}
		}()
	}

	for range iterations(8, 20) {
		if rand.IntN(1000) < 200 {
			cfg.disconnect(rand.IntN(servers))
		}
		if rand.IntN(1000) < 500 {
			i := rand.IntN(servers)
			if cfg.raft(i) == nil {
				cfg.start1(i)
			}
			cfg.connect(i)
		}
		if rand.IntN(1000) < 200 {
			if i := rand.IntN(servers); cfg.raft(i) != nil {
				cfg.crash1(i)
			}
		}
		// Often enough that the peers rarely settle between changes, rarely enough that they
		// sometimes catch up: a bit under the election timeout.
		runFor(electionTimeout * 7 / 10)
	}

	runFor(electionTimeout)
	cfg.setUnreliable(false)
	for i := range servers {
		if cfg.raft(i) == nil {
			cfg.start1(i)
		}
		cfg.connect(i)
	}

	stop.Store(true)
	var values []int
	for range clients {
		select {
		case vv := <-committed:
			values = append(values, vv...)
		case <-time.After(agreeDeadline):
			t.Fatal("a client did not stop")
		}
	}

	lastIndex := cfg.one(randCmd(), servers, true)
	var really []int
	for index := 1; index <= lastIndex; index++ {
		v, isInt := cfg.wait(index, servers, -1).(int)
		if !isInt {
			t.Fatalf("index %d holds a non-int", index)
		}
		really = append(really, v)
	}
	for _, v := range values {
		if !slices.Contains(really, v) {
			t.Fatalf("command %d was seen committed but is not in the final log", v)
		}
	}
	cfg.end()
}

func TestReliableChurn3C(t *testing.T) {
	simulate(t, func(t *testing.T) { churn(t, false) })
}

func TestUnreliableChurn3C(t *testing.T) {
	simulate(t, func(t *testing.T) { churn(t, true) })
}

// TestCrashAtEveryDiskPoint3C runs three peers with FilePersisters on simulated disks and, for
// every n in turn, makes each disk crash at its n-th write, fsync, rename or directory fsync
// after a first command, while commands keep coming. A peer whose disk fails stops; then every
// peer restarts from what a power cut leaves on its disk. The cluster must commit again, and no
// peer may ever apply a command other than the one any peer applied at that index before
// (the harness checks every apply across restarts): nothing committed is lost, nothing
// acknowledged was not durable.
func TestCrashAtEveryDiskPoint3C(t *testing.T) {
	t.Parallel()
	const servers, commands = 3, 20
	for n := 1; ; n++ {
		crashed := false
		synctest.Test(t, func(t *testing.T) {
			cfg := makeDiskConfig(t, servers, true)
			cfg.one(n*1000, servers, true)
			for i := range servers {
				d := cfg.disk(i)
				d.CrashAt(d.Ops() + n)
			}
			for k := 1; k <= commands; k++ {
				_, _ = cfg.tryOne(n*1000+k, 1, true) // fails once a majority has crashed
			}
			for i := range servers {
				crashed = crashed || cfg.disk(i).Crashed()
			}
			for i := range servers {
				cfg.start1(i)
			}
			for i := range servers {
				cfg.connect(i)
			}
			cfg.one(n*1000+commands+1, servers, true)
		})
		if t.Failed() {
			t.Fatalf("crash at point %d", n)
		}
		if !crashed {
			if n < 2*commands {
				t.Fatalf("only %d crash points", n-1)
			}
			t.Logf("crashed at each of %d points", n-1)
			return
		}
	}
}
