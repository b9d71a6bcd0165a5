package raft

// Snapshot tests (3D), modelled on MIT 6.5840's suite. With snapshots on, the harness's service
// hands Raft a snapshot every snapshotInterval commands, and checks every snapshot Raft delivers
// on applyCh against what the peers applied.

import (
	"math/rand/v2"
	"testing"
)

// snapFaults are the failures a snapshot test injects.
type snapFaults struct {
	disconnect bool // cut the victim off each iteration (or else:)
	crash      bool // crash the victim each iteration
	unreliable bool // lose and delay messages
	reorder    bool // hold replies back for up to seconds
}

// snapCommon runs iterations of: fail a peer (disconnect or crash, or neither), commit enough
// entries for a snapshot without it, check the persisted log stays trimmed, then bring the
// peer back, which may need an InstallSnapshot to catch up.
func snapCommon(t *testing.T, name string, f snapFaults) {
	const servers = 3
	disconnect, crash := f.disconnect, f.crash
	cfg := makeConfig(t, servers, f.unreliable, true)
	cfg.setLongReordering(f.reorder)
	cfg.begin(name)

	cfg.one(randCmd(), servers, true)
	leader1 := cfg.checkOneLeader()

	iters := iterations(10, 30)
	if f.reorder {
		iters = iterations(4, 30) // each agreement waits for held-back replies: about a second
	}
	for i := range iters {
		victim, sender := (leader1+1)%servers, leader1
		if i%3 == 1 {
			victim, sender = leader1, (leader1+1)%servers
		}

		if disconnect {
			cfg.disconnect(victim)
			cfg.one(randCmd(), servers-1, true)
		}
		if crash {
			cfg.crash1(victim)
			cfg.one(randCmd(), servers-1, true)
		}

		// Perhaps enough entries for a snapshot.
		for range snapshotInterval/2 + rand.IntN(snapshotInterval) {
			cfg.raft(sender).Start(randCmd())
		}

		// Let the appliers catch up with the Starts.
		if !disconnect && !crash {
			// All followers caught up, so the basic test needs no InstallSnapshot.
			cfg.one(randCmd(), servers, true)
		} else {
			cfg.one(randCmd(), servers-1, true)
		}

		if size := cfg.logSize(); size >= maxLogSize {
			t.Fatalf("persisted Raft state is %d bytes (limit %d): the log is not trimmed after snapshots",
				size, maxLogSize)
		}

		if disconnect {
			// The reconnected follower may be behind and need a snapshot to catch up.
			cfg.connect(victim)
			cfg.one(randCmd(), servers, true)
			leader1 = cfg.checkOneLeader()
		}
		if crash {
			cfg.start1(victim)
			cfg.connect(victim)
			cfg.one(randCmd(), servers, true)
			leader1 = cfg.checkOneLeader()
		}
	}
	cfg.end()
}

func TestSnapshotBasic3D(t *testing.T) {
	simulate(t, func(t *testing.T) {
		snapCommon(t, "3D snapshots basic", snapFaults{})
	})
}

func TestSnapshotInstall3D(t *testing.T) {
	simulate(t, func(t *testing.T) {
		snapCommon(t, "3D install snapshots (disconnect)", snapFaults{disconnect: true})
	})
}

func TestSnapshotInstallUnreliable3D(t *testing.T) {
	simulate(t, func(t *testing.T) {
		snapCommon(t, "3D install snapshots (disconnect+unreliable)", snapFaults{disconnect: true, unreliable: true})
	})
}

func TestSnapshotInstallCrash3D(t *testing.T) {
	simulate(t, func(t *testing.T) {
		snapCommon(t, "3D install snapshots (crash)", snapFaults{crash: true})
	})
}

func TestSnapshotInstallUnCrash3D(t *testing.T) {
	simulate(t, func(t *testing.T) {
		snapCommon(t, "3D install snapshots (unreliable+crash)", snapFaults{crash: true, unreliable: true})
	})
}

// TestSnapshotInstallReorder3D has InstallSnapshot and AppendEntries replies arrive long after
// newer ones while followers are cut off: a leader must not move a follower back or count stale
// progress.
func TestSnapshotInstallReorder3D(t *testing.T) {
	simulate(t, func(t *testing.T) {
		snapCommon(t, "3D install snapshots (disconnect+unreliable+reordering)",
			snapFaults{disconnect: true, unreliable: true, reorder: true})
	})
}

// TestSnapshotAllCrash3D crashes every peer after snapshots and checks that they come back with
// their state and keep going from where they were.
func TestSnapshotAllCrash3D(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, true)
		cfg.begin("3D crash and restart all servers")

		cfg.one(randCmd(), servers, true)
		for range iterations(5, 10) {
			// Perhaps enough entries for a snapshot.
			for range snapshotInterval/2 + rand.IntN(snapshotInterval) {
				cfg.one(randCmd(), servers, true)
			}
			index1 := cfg.one(randCmd(), servers, true)

			for i := range servers {
				cfg.crash1(i)
			}
			for i := range servers {
				cfg.start1(i)
				cfg.connect(i)
			}

			if index2 := cfg.one(randCmd(), servers, true); index2 < index1+1 {
				t.Fatalf("the log index went down from %d to %d across a restart", index1, index2)
			}
		}
		cfg.end()
	})
}

// TestSnapshotInit3D checks that a peer restarted from a snapshot persists correctly again:
// state written after a restart must not lose the snapshot.
func TestSnapshotInit3D(t *testing.T) {
	simulate(t, func(t *testing.T) {
		const servers = 3
		cfg := makeConfig(t, servers, false, true)
		cfg.begin("3D snapshot initialization after crash")

		cfg.one(randCmd(), servers, true)

		// Enough entries for a snapshot.
		for range snapshotInterval + 1 {
			cfg.one(randCmd(), servers, true)
		}

		crashAll := func() {
			for i := range servers {
				cfg.crash1(i)
			}
			for i := range servers {
				cfg.start1(i)
				cfg.connect(i)
			}
		}
		crashAll()

		// One entry, so something is persisted again after the restart.
		cfg.one(randCmd(), servers, true)

		crashAll()

		// Another entry, to trip a restart that lost the snapshot.
		cfg.one(randCmd(), servers, true)
		cfg.end()
	})
}
