package raft

import (
	"math/rand/v2"
	"sync"
)

// This file keeps the contract's older shapes: Make, which reports bad arguments through
// Raft.Err instead of an error, and NewFilePersister's hand-over of a directory reopened
// without Close. New(Config) and Storage are the API beside them.

// Make starts peer me of peers (peers[me] is itself), restoring from persister, and returns at
// once. Committed entries and installed snapshots are sent on applyCh in log order. A service
// restores its own state from persister.ReadSnapshot(); Make does not resend it. Make uses the
// default timings; invalid arguments (or undecodable persisted state) give a server that never
// acts, whose Err says why. New reports such errors directly.
func Make(peers []Peer, me int, persister Persister, applyCh chan ApplyMsg) *Raft {
	rf, err := New(Config{Peers: peers, Me: me, Persister: persister, ApplyCh: applyCh})
	if err != nil {
		rf = &Raft{done: make(chan struct{}), stopped: true, failure: err, log: discard, cancel: func() {}}
		rf.stop()
		rf.c = newCore(coreConfig{peers: 1, electionTicks: 1, heartbeatTicks: 1, maxBatch: 1, rng: rand.New(rand.NewPCG(1, 1))})
	}
	return rf
}

// The contract's NewFilePersister(dir) has no Close beside it, and MIT-style tests restart a
// server by calling it again on the same directory while the persister of the killed server is
// still open. The log's lock (durable's flock) belongs to the open file, so that second open
// would fail with durable.ErrLocked although the first persister will never write again. Hence
// this table, raft's one piece of process-wide mutable state: it maps each directory that a
// FilePersister of this process has open (on the operating system's file system) to that
// persister, so that opening the directory again closes the old one first and takes the log
// over, as a restart after a crash would. The lock still keeps other processes out; a persister
// closed with Close leaves the table.
var openDirs struct {
	sync.Mutex
	m map[string]*FilePersister // absolute directory -> its open persister
}

// handOver reserves dir for a FilePersister being opened: it closes the persister of this
// process that has dir open, if any, and holds the table until the returned register is called
// with the new persister, which it records if its log opened.
func handOver(dir string) (register func(*FilePersister)) {
	openDirs.Lock()
	if old := openDirs.m[dir]; old != nil {
		old.closeLog()
		delete(openDirs.m, dir)
	}
	return func(p *FilePersister) {
		defer openDirs.Unlock()
		if p.closed == nil {
			if openDirs.m == nil {
				openDirs.m = make(map[string]*FilePersister)
			}
			openDirs.m[dir] = p
		}
	}
}

// closeAndForget closes p's log and takes p out of the table, under the table's lock so that a
// concurrent open of the directory finds the log closed.
func closeAndForget(p *FilePersister) error {
	openDirs.Lock()
	defer openDirs.Unlock()
	if openDirs.m[p.dir] == p {
		delete(openDirs.m, p.dir)
	}
	return p.closeLog()
}
