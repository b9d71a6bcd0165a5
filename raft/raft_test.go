package raft

// Election (3A) and log agreement (3B) tests, modelled on MIT 6.5840's suite. The harness in
// config_test.go checks safety throughout; these tests drive failures and check liveness.

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"ds440/internal/testutil"
)

func TestInitialElection3A(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3A initial election")

		cfg.checkOneLeader()
		term1 := cfg.checkTerms()
		if term1 < 1 {
			t.Fatalf("term is %d, but a leader was elected so it should be at least 1", term1)
		}

		// Without failures the leader and term should stay put.
		runFor(2 * electionTimeout)
		if term2 := cfg.checkTerms(); term2 != term1 {
			t.Logf("warning: term changed from %d to %d without any failure", term1, term2)
		}
		cfg.checkOneLeader()
		cfg.end()
	})
}

func TestReElection3A(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3A election after network failure")

		leader1 := cfg.checkOneLeader()

		// If the leader disconnects, a new one is elected.
		cfg.disconnect(leader1)
		cfg.checkOneLeader()

		// The old leader rejoining does not disturb the new one, and it steps down.
		cfg.connect(leader1)
		leader2 := cfg.checkOneLeader()
		testutil.Eventually(t, leaderDeadline, func() bool {
			n := 0
			for _, ls := range cfg.connectedLeaders() {
				n += len(ls)
			}
			return n == 1
		}, "the rejoined old leader steps down")

		// Without a quorum no leader is elected.
		cfg.disconnect(leader2)
		cfg.disconnect((leader2 + 1) % servers)
		runFor(2 * electionTimeout)
		cfg.checkNoLeader()

		// When a quorum forms again, it elects a leader.
		cfg.connect((leader2 + 1) % servers)
		cfg.checkOneLeader()

		// The last peer rejoining does not prevent a leader.
		cfg.connect(leader2)
		cfg.checkOneLeader()
		cfg.end()
	})
}

func TestManyElections3A(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 7
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3A multiple elections")

		cfg.checkOneLeader()
		for range iterations(10, 30) {
			// Disconnect three peers at random; four remain, a quorum.
			i1, i2, i3 := rand.IntN(servers), rand.IntN(servers), rand.IntN(servers)
			cfg.disconnect(i1)
			cfg.disconnect(i2)
			cfg.disconnect(i3)

			// Either the current leader is still alive, or the remaining four elect a new one.
			cfg.checkOneLeader()

			cfg.connect(i1)
			cfg.connect(i2)
			cfg.connect(i3)
		}
		cfg.checkOneLeader()
		cfg.end()
	})
}

func TestBasicAgree3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B basic agreement")

		for index := 1; index <= 3; index++ {
			if nd, _ := cfg.nCommitted(index); nd > 0 {
				t.Fatalf("index %d committed before Start", index)
			}
			if xindex := cfg.one(index*100, servers, false); xindex != index {
				t.Fatalf("got index %d, want %d", xindex, index)
			}
		}
		cfg.end()
	})
}

// TestRPCBytes3B checks that each command is sent to each follower only once.
func TestRPCBytes3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B RPC byte count")

		cfg.one(99, servers, false)
		bytes0 := cfg.bytesTotal()

		const iters = 10
		var sent int64
		for index := 2; index < iters+2; index++ {
			cmd := randString(5000)
			if xindex := cfg.one(cmd, servers, false); xindex != index {
				t.Fatalf("got index %d, want %d", xindex, index)
			}
			sent += int64(len(cmd))
		}

		got := cfg.bytesTotal() - bytes0
		if want := int64(servers) * sent; got > want+50000 {
			t.Fatalf("too many RPC bytes: %d for %d bytes of commands (at most %d expected)", got, sent, want+50000)
		}
		cfg.end()
	})
}

func TestFollowerFailure3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B progressive failure of followers")

		cfg.one(101, servers, false)

		// The leader and the remaining follower agree without the disconnected follower.
		leader1 := cfg.checkOneLeader()
		cfg.disconnect((leader1 + 1) % servers)
		cfg.one(102, servers-1, false)
		runFor(electionTimeout)
		cfg.one(103, servers-1, false)

		// With both followers gone, the leader cannot commit.
		leader2 := cfg.checkOneLeader()
		cfg.disconnect((leader2 + 1) % servers)
		cfg.disconnect((leader2 + 2) % servers)
		index, _, ok := cfg.raft(leader2).Start(104)
		if !ok {
			t.Fatal("the leader rejected Start")
		}
		if index != 4 {
			t.Fatalf("Start returned index %d, want 4", index)
		}
		runFor(2 * electionTimeout)
		if nd, _ := cfg.nCommitted(index); nd > 0 {
			t.Fatalf("%d peers applied index %d without a majority", nd, index)
		}
		cfg.end()
	})
}

func TestLeaderFailure3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B failure of leaders")

		cfg.one(101, servers, false)

		// The followers elect a new leader and agree without the old one.
		leader1 := cfg.checkOneLeader()
		cfg.disconnect(leader1)
		cfg.one(102, servers-1, false)
		runFor(electionTimeout)
		cfg.one(103, servers-1, false)

		// With the new leader gone too, nothing commits, whoever is asked.
		leader2 := cfg.checkOneLeader()
		cfg.disconnect(leader2)
		for i := range servers {
			cfg.raft(i).Start(104)
		}
		runFor(2 * electionTimeout)
		if nd, _ := cfg.nCommitted(4); nd > 0 {
			t.Fatalf("%d peers applied index 4 without a majority", nd)
		}
		cfg.end()
	})
}

// TestFailAgree3B checks that a follower that was cut off catches up when it rejoins.
func TestFailAgree3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B agreement after follower reconnects")

		cfg.one(101, servers, false)

		leader := cfg.checkOneLeader()
		cfg.disconnect((leader + 1) % servers)

		cfg.one(102, servers-1, false)
		cfg.one(103, servers-1, false)
		runFor(electionTimeout)
		cfg.one(104, servers-1, false)
		cfg.one(105, servers-1, false)

		cfg.connect((leader + 1) % servers)

		// The rejoined follower catches up and takes part again.
		cfg.one(106, servers, true)
		runFor(electionTimeout)
		cfg.one(107, servers, true)
		cfg.end()
	})
}

func TestFailNoAgree3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 5
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B no agreement if too many followers disconnect")

		cfg.one(10, servers, false)

		// Three of five followers disconnect: no quorum.
		leader := cfg.checkOneLeader()
		cfg.disconnect((leader + 1) % servers)
		cfg.disconnect((leader + 2) % servers)
		cfg.disconnect((leader + 3) % servers)

		// Start returns at once even though the leader's RPCs now wait for long timeouts.
		var index int
		var ok bool
		testutil.Within(t, time.Second, "Start at a leader without a majority", func() {
			index, _, ok = cfg.raft(leader).Start(20)
		})
		if !ok {
			t.Fatal("the leader rejected Start")
		}
		if index != 2 {
			t.Fatalf("Start returned index %d, want 2", index)
		}
		runFor(2 * electionTimeout)
		if nd, _ := cfg.nCommitted(index); nd > 0 {
			t.Fatalf("%d peers applied index %d without a majority", nd, index)
		}

		// Repair. The disconnected majority may have elected a leader among themselves, forgetting
		// index 2.
		cfg.connect((leader + 1) % servers)
		cfg.connect((leader + 2) % servers)
		cfg.connect((leader + 3) % servers)

		leader2 := cfg.checkOneLeader()
		index2, _, ok2 := cfg.raft(leader2).Start(30)
		if !ok2 {
			t.Fatal("the new leader rejected Start")
		}
		if index2 < 2 || index2 > 3 {
			t.Fatalf("Start returned index %d, want 2 or 3", index2)
		}
		cfg.one(1000, servers, true)
		cfg.end()
	})
}

func TestConcurrentStarts3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B concurrent Start()s")

		success := false
	loop:
		for try := range 5 {
			if try > 0 {
				runFor(3 * time.Second) // give the cluster time to settle
			}
			leader := cfg.checkOneLeader()
			_, term, ok := cfg.raft(leader).Start(1)
			if !ok {
				continue // the leader moved on quickly
			}

			const iters = 5
			var wg sync.WaitGroup
			indexes := make(chan int, iters)
			for i := range iters {
				wg.Go(func() {
					index, term1, ok := cfg.raft(leader).Start(100 + i)
					if term1 != term || !ok {
						return
					}
					indexes <- index
				})
			}
			wg.Wait()
			close(indexes)

			for j := range servers {
				if t, _ := cfg.raft(j).GetState(); t != term {
					continue loop // the term moved on: no guarantee the commands commit
				}
			}

			var cmds []int
			failed := false
			for index := range indexes {
				cmd := cfg.wait(index, servers, term)
				ix, isInt := cmd.(int)
				if !isInt {
					t.Fatalf("value %v is not an int", cmd)
				}
				if ix == -1 {
					failed = true // peers moved on to a later term
					break
				}
				cmds = append(cmds, ix)
			}
			if failed {
				continue
			}

			for i := range iters {
				if !slices.Contains(cmds, 100+i) {
					t.Fatalf("command %d missing from %v", 100+i, cmds)
				}
			}
			success = true
			break
		}
		if !success {
			t.Fatal("the term changed too often")
		}
		cfg.end()
	})
}

// TestRejoin3B checks that a partitioned leader's uncommitted entries are replaced when it
// rejoins.
func TestRejoin3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B rejoin of partitioned leader")

		cfg.one(101, servers, true)

		// The leader is partitioned away and takes entries it cannot commit.
		leader1 := cfg.checkOneLeader()
		cfg.disconnect(leader1)
		cfg.raft(leader1).Start(102)
		cfg.raft(leader1).Start(103)
		cfg.raft(leader1).Start(104)

		// The new leader commits, at index 2 too.
		cfg.one(103, 2, true)

		// The new leader is partitioned; the old one comes back.
		leader2 := cfg.checkOneLeader()
		cfg.disconnect(leader2)
		cfg.connect(leader1)
		cfg.one(104, 2, true)

		// Everyone together again.
		cfg.connect(leader2)
		cfg.one(105, servers, true)
		cfg.end()
	})
}

// TestRejoinCatchUp3B checks that a follower that missed entries while cut off catches up
// within a few heartbeats of rejoining, even though the RPCs sent to it meanwhile are still
// waiting for their (long) timeouts.
func TestRejoinCatchUp3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const (
			servers = 3
			limit   = 3 * time.Second // 30 heartbeat intervals: room for an election
		)
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B rejoined follower catches up quickly")

		for round := range 5 {
			cfg.one(100+round, servers, true)
			f := (cfg.checkOneLeader() + 1) % servers
			cfg.disconnect(f)
			var last int
			for j := range 5 {
				last = cfg.one(1000*round+j, servers-1, true)
			}
			start := time.Now()
			cfg.connect(f)
			testutil.Eventually(t, agreeDeadline, func() bool {
				cfg.checkFailure()
				return cfg.applied(f, last)
			}, "the rejoined follower applies index %d", last)
			if took := time.Since(start); took > limit {
				t.Fatalf("round %d: the rejoined follower took %v to apply index %d (limit %v)",
					round, took.Round(time.Millisecond), last, limit)
			}
		}
		cfg.end()
	})
}

// TestBackup3B checks that a leader quickly overwrites long runs of wrong entries in followers'
// logs.
func TestBackup3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 5
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B leader backs up quickly over incorrect follower logs")

		cfg.one(randCmd(), servers, true)

		// Put the leader and one follower in a partition.
		leader1 := cfg.checkOneLeader()
		cfg.disconnect((leader1 + 2) % servers)
		cfg.disconnect((leader1 + 3) % servers)
		cfg.disconnect((leader1 + 4) % servers)

		// Submit lots of commands that won't commit.
		for range 50 {
			cfg.raft(leader1).Start(randCmd())
		}
		runFor(electionTimeout / 2)

		cfg.disconnect((leader1 + 0) % servers)
		cfg.disconnect((leader1 + 1) % servers)

		// The other partition recovers and commits lots of commands.
		cfg.connect((leader1 + 2) % servers)
		cfg.connect((leader1 + 3) % servers)
		cfg.connect((leader1 + 4) % servers)
		for range 50 {
			cfg.one(randCmd(), 3, true)
		}

		// Now another partitioned leader and one follower.
		leader2 := cfg.checkOneLeader()
		other := (leader1 + 2) % servers
		if leader2 == other {
			other = (leader2 + 1) % servers
		}
		cfg.disconnect(other)

		// Lots more commands that won't commit.
		for range 50 {
			cfg.raft(leader2).Start(randCmd())
		}
		runFor(electionTimeout / 2)

		// Bring the original leader back to life.
		for i := range servers {
			cfg.disconnect(i)
		}
		cfg.connect((leader1 + 0) % servers)
		cfg.connect((leader1 + 1) % servers)
		cfg.connect(other)

		// Lots of commands that commit.
		for range 50 {
			cfg.one(randCmd(), 3, true)
		}

		// Now everyone.
		for i := range servers {
			cfg.connect(i)
		}
		cfg.one(randCmd(), servers, true)
		cfg.end()
	})
}

// TestBackupRPCs3B checks that backing up over a long run of conflicting entries takes a few
// RPCs, not one per entry: the conflict term/index hint lets the leader skip a whole term.
func TestBackupRPCs3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const (
			servers  = 3
			diverged = 100
		)
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B fast backtracking takes few RPCs")

		cfg.one(randCmd(), servers, true)

		// The leader, alone, takes many entries it cannot commit.
		leader1 := cfg.checkOneLeader()
		cfg.disconnect(leader1)
		for range diverged {
			cfg.raft(leader1).Start(randCmd())
		}

		// The other two elect a leader and commit as many different entries in a newer term.
		leader2 := cfg.checkOneLeader()
		for range diverged - 1 {
			cfg.raft(leader2).Start(randCmd())
		}
		last := cfg.one(randCmd(), servers-1, true)

		// The old leader rejoins as the new one leaves. The remaining peer, whose log is newer,
		// becomes leader with its next index for the old leader past the whole divergent suffix,
		// so it must back up over it.
		leader2 = cfg.checkOneLeader()
		cfg.disconnect(leader2)
		rpcs0 := cfg.rpcCount(leader1)
		start := time.Now()
		cfg.connect(leader1)
		testutil.Eventually(t, agreeDeadline, func() bool {
			cfg.checkFailure()
			return cfg.applied(leader1, last)
		}, "the rejoined old leader applies index %d", last)
		rpcs := cfg.rpcCount(leader1) - rpcs0
		elapsed := time.Since(start)

		// An election (a few RequestVotes), heartbeats at up to 10/s with slack for the time it
		// took, and a handful of RPCs to back up and send the entries. Backing up one entry per RPC
		// would take about diverged RPCs, or about diverged heartbeat intervals if paced by them.
		limit := 10 + 2*int(elapsed/(100*time.Millisecond))
		if rpcs > limit {
			t.Fatalf("the rejoined peer received %d RPCs in %v to replace %d conflicting entries "+
				"(at most %d expected)", rpcs, elapsed.Round(time.Millisecond), diverged, limit)
		}

		t.Logf("backing up over %d conflicting entries: %d RPCs in %v", diverged, rpcs, elapsed.Round(time.Millisecond))

		cfg.connect(leader2)
		cfg.one(randCmd(), servers, true)
		cfg.end()
	})
}

// TestCount3B checks that agreement and idleness take a bounded number of RPCs.
func TestCount3B(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, false)
		cfg.begin("3B RPC counts aren't too high")

		rpcs := func() (n int) {
			for j := range servers {
				n += cfg.rpcCount(j)
			}
			return n
		}

		cfg.checkOneLeader()
		if total1 := rpcs(); total1 > 30 || total1 < 1 {
			t.Fatalf("%d RPCs to elect the first leader; want 1..30", total1)
		}

		var total2 int
		success := false
	loop:
		for try := range 5 {
			if try > 0 {
				runFor(3 * time.Second) // give the cluster time to settle
			}
			leader := cfg.checkOneLeader()
			total1 := rpcs()

			const iters = 10
			starti, term, ok := cfg.raft(leader).Start(1)
			if !ok {
				continue // the leader moved on quickly
			}
			var cmds []int
			for i := 1; i < iters+2; i++ {
				x := randCmd()
				cmds = append(cmds, x)
				index1, term1, ok := cfg.raft(leader).Start(x)
				if term1 != term || !ok {
					continue loop // the leader moved on
				}
				if starti+i != index1 {
					t.Fatalf("Start returned index %d, want %d", index1, starti+i)
				}
			}

			for i := 1; i < iters+1; i++ {
				cmd := cfg.wait(starti+i, servers, term)
				if ix, isInt := cmd.(int); !isInt || ix != cmds[i-1] {
					if ix == -1 {
						continue loop // the term changed
					}
					t.Fatalf("index %d applied %v, want %d", starti+i, cmd, cmds[i-1])
				}
			}

			total2 = 0
			for j := range servers {
				if t, _ := cfg.raft(j).GetState(); t != term {
					continue loop // the term changed, so not all RPCs were for agreement
				}
				total2 += cfg.rpcCount(j)
			}
			if total2-total1 > (iters+1+3)*3 {
				t.Fatalf("%d RPCs for %d entries", total2-total1, iters)
			}
			success = true
			break
		}
		if !success {
			t.Fatal("the term changed too often")
		}

		// While idle, a leader sends each of its two followers at most ten heartbeats a second.
		// The few extra allow for a heartbeat at either edge of the measured interval.
		idleStart := time.Now()
		runFor(2 * electionTimeout)
		idle := rpcs() - total2
		elapsed := time.Since(idleStart)
		if limit := int(2*10*elapsed.Seconds()) + 4; idle > limit {
			t.Fatalf("%d RPCs in %v of idleness (limit %d): more than 10 heartbeats/s per follower",
				idle, elapsed.Round(time.Millisecond), limit)
		}
		cfg.end()
	})
}
