package raft

// The test harness: n Raft peers on a labrpc network, modelled on MIT 6.5840's config.go and
// written for ds440. Besides driving the tests (crash, restart, partition, submit), it watches
// every peer the whole time and fails the test on any safety violation: two leaders in one
// term, two peers applying different commands at the same index, or a peer applying out of
// order or twice. Violations found off the test goroutine are recorded and reported by the
// next check on the test goroutine, and at the latest when the test ends. At the end it also
// fails the test if a goroutine outlived the cluster, a killed peer wrote its persister after
// Kill returned, or the network saw an RPC type gob cannot carry whole.

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/durable"
	"ds440/internal/testutil"
	"ds440/labrpc"
)

// Harness timing and sizes.
const (
	// electionTimeout is the time the tests allow for one election; the peers' own randomized
	// timeouts are well below it.
	electionTimeout = time.Second
	// leaderDeadline is how long a partition with a quorum may go without a leader (the issue's
	// "new leader within 5 s").
	leaderDeadline = 5 * time.Second
	// agreeDeadline bounds one(): submitting a command until a leader takes it and it commits.
	agreeDeadline = 10 * time.Second
	// attemptDeadline bounds one attempt of one() at a leader that accepted the command.
	attemptDeadline = 3 * time.Second
	// waitDeadline bounds wait() for a given index to commit.
	waitDeadline = 10 * time.Second
	// testDeadline is the longest any single test may run.
	testDeadline = 120 * time.Second
	// monitorInterval is how often the leader monitor samples every peer's state.
	monitorInterval = 5 * time.Millisecond
	// applierStopDeadline bounds how long a killed peer's applier may take to stop.
	applierStopDeadline = 5 * time.Second

	// snapshotInterval: with snapshots on, the service snapshots after every this many commands.
	snapshotInterval = 10
	// maxLogSize bounds a peer's persisted Raft state (bytes) in snapshot tests: the log must
	// be trimmed, not kept whole beside the snapshot.
	maxLogSize = 2000
)

// config is one test's cluster of Raft peers on a simulated network.
type config struct {
	t         *testing.T
	net       *labrpc.Network
	n         int
	snapshots bool // the service snapshots every snapshotInterval commands

	mu          sync.Mutex
	rafts       []*Raft // nil while a peer is crashed
	appliers    []*applier
	connected   []bool
	saved       []*MemoryPersister
	disks       []*durable.MemFS // with makeDiskConfig: each peer's disk, FilePersisters on it
	killed      []killedState    // per peer: what its last killed incarnation had persisted
	endnames    [][]string       // endnames[i][j]: the end peer i uses to reach peer j
	endSeq      int              // makes every incarnation's end names fresh
	logs        []map[int]any    // logs[i][index]: what peer i applied there, across restarts
	lastApplied []int            // per incarnation: the highest index applied, in order
	maxIndex    int
	leaders     map[int]int // term -> the one peer ever seen leading it
	failure     string      // the first safety violation seen off the test goroutine
	reported    bool        // the test goroutine already failed on it

	stopMonitor chan struct{}
	monitorDone chan struct{}

	// Figures since begin().
	desc   string
	t0     time.Time
	rpcs0  int
	bytes0 int64
	index0 int
}

// applier is the goroutine reading one incarnation of a peer's applyCh.
type applier struct {
	stop chan struct{}
	done chan struct{}
}

// killedState is the persister a killed incarnation used and what it held when Kill returned.
// A killed Raft must not write it any more.
type killedState struct {
	persister       *MemoryPersister
	state, snapshot []byte
}

// serviceSnapshot is what the test service stores in a snapshot: every command up to Index.
type serviceSnapshot struct {
	Index    int
	Commands []any // Commands[k] is the command at index k+1
}

// simulate runs body, a test on the simulated network, in its own testing/synctest bubble and
// in parallel with the other tests. In the bubble the peers' timers, labrpc's delays and the
// harness's waits all run on a fake clock that moves only when every goroutine of the bubble is
// blocked: a 5-second scenario costs only the CPU the cluster uses, and a loaded machine cannot
// make a peer miss a heartbeat. When body returns (and its cleanups have torn the cluster
// down), synctest.Test waits for every goroutine the test started and fails the test if one is
// stuck, so no goroutine can outlive the cluster.
func simulate(t *testing.T, body func(t *testing.T)) {
	t.Parallel()
	synctest.Test(t, body)
}

// runFor lets the simulated cluster run for d of the bubble's fake time: a step of the
// scenario ("let the peers time out"), not a synchronisation. It must be called inside
// simulate.
func runFor(d time.Duration) {
	time.Sleep(d) // fake time (synctest): the bubble's clock moves d once every goroutine is blocked
}

// makeConfig starts n connected peers. With unreliable set the network loses and delays
// messages; with snapshots set the service snapshots every snapshotInterval commands. The
// cluster is torn down when the test ends. Call it inside simulate.
func makeConfig(t *testing.T, n int, unreliable, snapshots bool) *config {
	t.Helper()
	return newConfig(t, n, unreliable, snapshots, false)
}

// makeDiskConfig is makeConfig with a FilePersister per peer on a simulated disk of its own
// (cfg.disks), which a test can make crash. A restarted peer finds what a power cut leaves:
// only what was fsynced.
func makeDiskConfig(t *testing.T, n int, snapshots bool) *config {
	t.Helper()
	return newConfig(t, n, false, snapshots, true)
}

func newConfig(t *testing.T, n int, unreliable, snapshots, disks bool) *config {
	t.Helper()
	cfg := &config{
		t:           t,
		net:         labrpc.MakeNetwork(),
		n:           n,
		snapshots:   snapshots,
		rafts:       make([]*Raft, n),
		appliers:    make([]*applier, n),
		connected:   make([]bool, n),
		saved:       make([]*MemoryPersister, n),
		killed:      make([]killedState, n),
		endnames:    make([][]string, n),
		logs:        make([]map[int]any, n),
		lastApplied: make([]int, n),
		leaders:     make(map[int]int),
		stopMonitor: make(chan struct{}),
		monitorDone: make(chan struct{}),
		t0:          time.Now(),
	}
	if disks {
		cfg.disks = make([]*durable.MemFS, n)
	}
	t.Cleanup(cfg.cleanup)
	cfg.net.Reliable(!unreliable)
	// Calls to unreachable peers fail slowly, as real timeouts do: Raft must not wait for them.
	cfg.net.LongDelays(true)
	for i := range n {
		cfg.logs[i] = make(map[int]any)
		cfg.start1(i)
	}
	for i := range n {
		cfg.connect(i)
	}
	go cfg.monitorLeaders()
	return cfg
}

// cleanup kills every peer and the network, then reports what went wrong off the test goroutine.
func (cfg *config) cleanup() {
	for i := range cfg.n {
		cfg.crash1(i)
	}
	for i := range cfg.n {
		cfg.checkKilledQuiet(i)
	}
	close(cfg.stopMonitor)
	<-cfg.monitorDone
	cfg.net.Cleanup()
	cfg.mu.Lock()
	f, reported := cfg.failure, cfg.reported
	cfg.mu.Unlock()
	if f != "" && !reported {
		cfg.t.Errorf("safety violation: %s", f)
	}
	for _, w := range cfg.net.Warnings() {
		cfg.t.Errorf("RPC wire problem: %s", w)
	}
}

// fail records a safety violation found off the test goroutine.
func (cfg *config) fail(format string, args ...any) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	if cfg.failure == "" {
		cfg.failure = fmt.Sprintf(format, args...)
	}
}

// failed returns the first recorded violation, or "".
func (cfg *config) failed() string {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	return cfg.failure
}

// checkFailure fails the test at once if a violation was recorded.
func (cfg *config) checkFailure() {
	cfg.t.Helper()
	if f := cfg.failed(); f != "" {
		cfg.mu.Lock()
		cfg.reported = true
		cfg.mu.Unlock()
		cfg.t.Fatalf("safety violation: %s", f)
	}
}

// monitorLeaders samples every live peer's state and records a violation if two peers are
// ever seen leading the same term (Election Safety). Sampling catches overlapping leaderships;
// each leader stays leader for at least a heartbeat, many samples.
func (cfg *config) monitorLeaders() {
	defer close(cfg.monitorDone)
	ticker := time.NewTicker(monitorInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			for i, rf := range cfg.liveRafts() {
				if rf == nil {
					continue
				}
				term, isLeader := rf.GetState()
				if !isLeader {
					continue
				}
				cfg.mu.Lock()
				other, seen := cfg.leaders[term]
				if !seen {
					cfg.leaders[term] = i
				}
				cfg.mu.Unlock()
				if seen && other != i {
					cfg.fail("term %d has two leaders: peers %d and %d", term, other, i)
				}
			}
		case <-cfg.stopMonitor:
			return
		}
	}
}

// liveRafts returns the running peers (nil for crashed ones).
func (cfg *config) liveRafts() []*Raft {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	return append([]*Raft(nil), cfg.rafts...)
}

// raft returns peer i, or nil if it is crashed.
func (cfg *config) raft(i int) *Raft {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	return cfg.rafts[i]
}

// start1 (re)starts peer i from its saved state, crashing the running incarnation first. The
// new incarnation gets fresh ends, so the old one's RPCs can no longer arrive, and a fresh copy
// of the persister, so the old one cannot overwrite the new one's state. It is not connected.
func (cfg *config) start1(i int) {
	cfg.crash1(i)
	cfg.checkKilledQuiet(i)

	cfg.mu.Lock()
	cfg.endSeq++
	cfg.endnames[i] = make([]string, cfg.n)
	for j := range cfg.n {
		cfg.endnames[i][j] = fmt.Sprintf("%d->%d#%d", i, j, cfg.endSeq)
	}
	endnames := cfg.endnames[i]
	cfg.lastApplied[i] = 0
	var persister Persister
	if cfg.disks != nil {
		if cfg.disks[i] == nil {
			cfg.disks[i] = durable.NewMemFS()
		} else {
			cfg.disks[i] = cfg.disks[i].Restart(true)
		}
		p, err := openFilePersister("/raft", cfg.disks[i])
		if err != nil {
			cfg.mu.Unlock()
			cfg.t.Fatalf("restarting peer %d: %v", i, err)
		}
		persister = p
	} else {
		if cfg.saved[i] == nil {
			cfg.saved[i] = NewMemoryPersister()
		} else {
			cfg.saved[i] = cfg.saved[i].Copy()
		}
		persister = cfg.saved[i]
	}
	// The service restores its state machine from the snapshot before Raft restarts, as a
	// real service reading its persister would.
	if snap := persister.ReadSnapshot(); len(snap) > 0 {
		if err := cfg.ingestSnapshot(i, snap, -1); err != "" {
			cfg.mu.Unlock()
			cfg.t.Fatalf("restarting peer %d: %s", i, err)
		}
	}
	cfg.mu.Unlock()

	peers := make([]Peer, cfg.n)
	for j := range cfg.n {
		end := cfg.net.MakeEnd(endnames[j])
		cfg.net.Connect(endnames[j], j)
		peers[j] = end
	}
	applyCh := make(chan ApplyMsg)
	rf := Make(peers, i, persister, applyCh)
	ap := &applier{stop: make(chan struct{}), done: make(chan struct{})}

	cfg.mu.Lock()
	cfg.rafts[i] = rf
	cfg.appliers[i] = ap
	cfg.mu.Unlock()
	go cfg.runApplier(i, rf, applyCh, ap)

	srv := labrpc.MakeServer()
	srv.AddService(labrpc.MakeService(rf))
	cfg.net.AddServer(i, srv)
}

// crash1 kills peer i: it is cut off, its server removed, Raft killed and its applier stopped.
// What it persisted survives in a copy for the next start1.
func (cfg *config) crash1(i int) {
	cfg.disconnect(i)
	cfg.net.DeleteServer(i)

	cfg.mu.Lock()
	rf, ap, old := cfg.rafts[i], cfg.appliers[i], cfg.saved[i]
	cfg.rafts[i], cfg.appliers[i] = nil, nil
	if cfg.saved[i] != nil {
		// Snapshot the persisted state now: a killed peer must not change it any more, and
		// this copy is what the next incarnation sees even if it did.
		cfg.saved[i] = cfg.saved[i].Copy()
	}
	cfg.mu.Unlock()

	if rf != nil {
		rf.Kill()
	}
	if ap != nil {
		close(ap.stop)
		select {
		case <-ap.done:
		case <-time.After(applierStopDeadline):
			cfg.t.Errorf("peer %d: the applier did not stop within %v of Kill (blocked in Snapshot?)",
				i, applierStopDeadline)
		}
	}
	if rf != nil && old != nil {
		k := killedState{persister: old, state: old.ReadRaftState(), snapshot: old.ReadSnapshot()}
		cfg.mu.Lock()
		cfg.killed[i] = k
		cfg.mu.Unlock()
	}
}

// checkKilledQuiet fails the test if peer i's last killed incarnation wrote its persister after
// Kill returned: a killed Raft must change nothing.
func (cfg *config) checkKilledQuiet(i int) {
	cfg.mu.Lock()
	k := cfg.killed[i]
	cfg.mu.Unlock()
	if k.persister == nil {
		return
	}
	if !bytes.Equal(k.persister.ReadRaftState(), k.state) || !bytes.Equal(k.persister.ReadSnapshot(), k.snapshot) {
		cfg.t.Errorf("peer %d: a killed incarnation wrote its persister after Kill returned", i)
	}
}

// runApplier checks and records what one incarnation of peer i applies, snapshotting every
// snapshotInterval commands when snapshots are on. It stops when the peer is crashed.
func (cfg *config) runApplier(i int, rf *Raft, applyCh chan ApplyMsg, ap *applier) {
	defer close(ap.done)
	for {
		select {
		case m := <-applyCh:
			snapIndex, snap := cfg.apply(i, m)
			if snap != nil {
				rf.Snapshot(snapIndex, snap)
			}
		case <-ap.stop:
			return
		}
	}
}

// apply checks one ApplyMsg of peer i against what every peer applied so far. It returns a
// snapshot for the service to hand to Raft, or nil.
func (cfg *config) apply(i int, m ApplyMsg) (int, []byte) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	switch {
	case m.SnapshotValid && m.CommandValid:
		cfg.failLocked("peer %d: an ApplyMsg is both a command (%d) and a snapshot (%d)",
			i, m.CommandIndex, m.SnapshotIndex)
	case m.SnapshotValid:
		if m.SnapshotIndex < cfg.lastApplied[i] {
			cfg.failLocked("peer %d: snapshot at index %d would roll back the %d entries applied",
				i, m.SnapshotIndex, cfg.lastApplied[i])
			return 0, nil
		}
		if err := cfg.ingestSnapshot(i, m.Snapshot, m.SnapshotIndex); err != "" {
			cfg.failLocked("%s", err)
		}
	case m.CommandValid:
		if m.CommandIndex != cfg.lastApplied[i]+1 {
			cfg.failLocked("peer %d applied index %d after %d: out of order, repeated or skipped",
				i, m.CommandIndex, cfg.lastApplied[i])
			return 0, nil
		}
		cfg.record(i, m.CommandIndex, m.Command)
		cfg.lastApplied[i] = m.CommandIndex
		if cfg.snapshots && (m.CommandIndex+1)%snapshotInterval == 0 {
			return m.CommandIndex, cfg.encodeSnapshot(i, m.CommandIndex)
		}
	default:
		cfg.failLocked("peer %d: an ApplyMsg with neither a command nor a snapshot: %+v", i, m)
	}
	return 0, nil
}

// failLocked is fail for callers holding cfg.mu.
func (cfg *config) failLocked(format string, args ...any) {
	if cfg.failure == "" {
		cfg.failure = fmt.Sprintf(format, args...)
	}
}

// record notes that peer i applied cmd at index, failing if any peer applied something else
// there (State Machine Safety). The caller holds cfg.mu.
func (cfg *config) record(i, index int, cmd any) {
	for j, log := range cfg.logs {
		if old, ok := log[index]; ok && old != cmd {
			cfg.failLocked("index %d: peer %d applied %v but peer %d applied %v", index, i, cmd, j, old)
		}
	}
	cfg.logs[i][index] = cmd
	cfg.maxIndex = max(cfg.maxIndex, index)
}

// encodeSnapshot builds the service's snapshot of peer i's commands up to index. The caller
// holds cfg.mu.
func (cfg *config) encodeSnapshot(i, index int) []byte {
	s := serviceSnapshot{Index: index, Commands: make([]any, index)}
	for k := 1; k <= index; k++ {
		s.Commands[k-1] = cfg.logs[i][k]
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		cfg.failLocked("peer %d: encoding a snapshot: %v", i, err)
		return nil
	}
	return buf.Bytes()
}

// ingestSnapshot replaces peer i's state machine with a snapshot, checking it against what the
// other peers applied. index is the ApplyMsg's SnapshotIndex, or -1 at restart. The caller holds
// cfg.mu; it returns a description of what is wrong, or "".
func (cfg *config) ingestSnapshot(i int, data []byte, index int) string {
	var s serviceSnapshot
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return fmt.Sprintf("peer %d: snapshot does not decode: %v", i, err)
	}
	if index != -1 && index != s.Index {
		return fmt.Sprintf("peer %d: ApplyMsg says snapshot index %d but the snapshot holds %d",
			i, index, s.Index)
	}
	if len(s.Commands) != s.Index {
		return fmt.Sprintf("peer %d: snapshot at index %d holds %d commands", i, s.Index, len(s.Commands))
	}
	cfg.logs[i] = make(map[int]any, s.Index)
	for k, cmd := range s.Commands {
		cfg.record(i, k+1, cmd)
	}
	cfg.lastApplied[i] = s.Index
	return ""
}

// connect joins peer i to the connected peers, in both directions.
func (cfg *config) connect(i int) {
	cfg.setConnected(i, true)
}

// disconnect cuts peer i off from every other peer, in both directions.
func (cfg *config) disconnect(i int) {
	cfg.setConnected(i, false)
}

func (cfg *config) setConnected(i int, up bool) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	cfg.connected[i] = up
	for j := range cfg.n {
		if !cfg.connected[j] && up {
			continue // links to a disconnected peer stay down
		}
		if cfg.endnames[i] != nil {
			cfg.net.Enable(cfg.endnames[i][j], up) // outgoing
		}
		if cfg.endnames[j] != nil {
			cfg.net.Enable(cfg.endnames[j][i], up) // incoming
		}
	}
}

// isConnected reports whether peer i is connected.
func (cfg *config) isConnected(i int) bool {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	return cfg.connected[i]
}

func (cfg *config) setUnreliable(unreliable bool) { cfg.net.Reliable(!unreliable) }

func (cfg *config) setLongReordering(yes bool) { cfg.net.LongReordering(yes) }

// rpcCount returns the RPCs delivered to the current incarnation of peer i.
func (cfg *config) rpcCount(i int) int { return cfg.net.GetCount(i) }

func (cfg *config) rpcTotal() int { return cfg.net.GetTotalCount() }

func (cfg *config) bytesTotal() int64 { return cfg.net.GetTotalBytes() }

// logSize returns the largest persisted Raft state among the peers.
func (cfg *config) logSize() int {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	size := 0
	for _, p := range cfg.saved {
		if p != nil {
			size = max(size, p.RaftStateSize())
		}
	}
	return size
}

// connectedLeaders returns the connected peers that think they lead, by term.
func (cfg *config) connectedLeaders() map[int][]int {
	leaders := make(map[int][]int)
	for i, rf := range cfg.liveRafts() {
		if rf == nil || !cfg.isConnected(i) {
			continue
		}
		if term, isLeader := rf.GetState(); isLeader {
			leaders[term] = append(leaders[term], i)
		}
	}
	return leaders
}

// checkOneLeader waits until a connected peer leads and returns the leader of the newest
// term, failing the test if there is none within leaderDeadline or any term has two.
func (cfg *config) checkOneLeader() int {
	cfg.t.Helper()
	leader := -1
	ok := testutil.WaitUntil(leaderDeadline, func() bool {
		newest := -1
		for term, ls := range cfg.connectedLeaders() {
			if len(ls) > 1 {
				cfg.t.Fatalf("term %d has %d leaders: %v", term, len(ls), ls)
			}
			if term > newest {
				newest, leader = term, ls[0]
			}
		}
		return newest >= 0
	})
	cfg.checkFailure()
	if !ok {
		cfg.t.Fatalf("no leader elected within %v", leaderDeadline)
	}
	return leader
}

// checkNoLeader fails the test if a connected peer thinks it leads.
func (cfg *config) checkNoLeader() {
	cfg.t.Helper()
	if ls := cfg.connectedLeaders(); len(ls) > 0 {
		cfg.t.Fatalf("expected no leader among connected peers, but %v lead (by term)", ls)
	}
}

// checkTerms waits until the connected peers agree on the term and returns it.
func (cfg *config) checkTerms() int {
	cfg.t.Helper()
	term := -1
	testutil.Eventually(cfg.t, electionTimeout, func() bool {
		term = -1
		for i, rf := range cfg.liveRafts() {
			if rf == nil || !cfg.isConnected(i) {
				continue
			}
			t, _ := rf.GetState()
			if term != -1 && t != term {
				return false
			}
			term = t
		}
		return true
	}, "connected peers agree on the term")
	return term
}

// applied reports whether peer i has applied index.
func (cfg *config) applied(i, index int) bool {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	_, ok := cfg.logs[i][index]
	return ok
}

// nCommitted returns how many peers applied index, and the command there.
func (cfg *config) nCommitted(index int) (int, any) {
	cfg.t.Helper()
	cfg.checkFailure()
	return cfg.committed(index)
}

// committed is nCommitted for any goroutine: it does not stop the test.
func (cfg *config) committed(index int) (int, any) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	count := 0
	var cmd any
	for _, log := range cfg.logs {
		if c, ok := log[index]; ok {
			count++
			cmd = c // record() already failed the test if two peers differ
		}
	}
	return count, cmd
}

// wait waits until at least n peers applied index and returns the command there. If startTerm
// is not -1 and some peer moves past it, wait gives up and returns -1: the leader that took
// the command may have lost it.
func (cfg *config) wait(index, n, startTerm int) any {
	cfg.t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for {
		nd, cmd := cfg.nCommitted(index)
		if nd >= n {
			return cmd
		}
		if startTerm > -1 {
			for _, rf := range cfg.liveRafts() {
				if rf == nil {
					continue
				}
				if t, _ := rf.GetState(); t > startTerm {
					return -1
				}
			}
		}
		if time.Now().After(deadline) {
			cfg.t.Fatalf("only %d peers applied index %d within %v; wanted %d", nd, index, waitDeadline, n)
		}
		runFor(10 * time.Millisecond)
	}
}

// one submits cmd until a leader commits it on at least expected peers, and returns its
// index. Without retry, a leader that accepts the command but does not commit it in time fails
// the test; with retry, one tries again at whoever leads next.
func (cfg *config) one(cmd any, expected int, retry bool) int {
	cfg.t.Helper()
	index, err := cfg.tryOne(cmd, expected, retry)
	if err != nil {
		cfg.t.Fatal(err)
	}
	return index
}

// tryOne is one for any goroutine: it returns an error instead of stopping the test.
func (cfg *config) tryOne(cmd any, expected int, retry bool) (int, error) {
	start := time.Now()
	for time.Since(start) < agreeDeadline {
		if f := cfg.failed(); f != "" {
			return -1, fmt.Errorf("safety violation: %s", f)
		}
		index := -1
		if rf := cfg.newestLeader(); rf != nil {
			if i, _, isLeader := rf.Start(cmd); isLeader {
				index = i
			}
		}
		if index == -1 {
			runFor(20 * time.Millisecond)
			continue
		}
		// A leader took the command; wait for agreement, or until another command is
		// committed at its index.
		attempt := time.Now()
		for time.Since(attempt) < attemptDeadline {
			nd, got := cfg.committed(index)
			if nd > 0 && nd >= expected && got == cmd {
				return index, nil
			}
			if nd > 0 && got != cmd {
				break // lost: the index holds another command
			}
			runFor(10 * time.Millisecond)
		}
		if !retry {
			return -1, fmt.Errorf("one(%v): the leader took it at index %d but %d peers did not "+
				"apply it within %v", short(cmd), index, expected, attemptDeadline)
		}
	}
	return -1, fmt.Errorf("one(%v): %d peers did not agree within %v", short(cmd), expected, agreeDeadline)
}

// newestLeader returns the connected peer that leads the newest term, or nil. Submitting there
// rather than at any peer that thinks it leads skips stale leaders that have not yet heard of
// the newer term, whose entries could not commit.
func (cfg *config) newestLeader() *Raft {
	var leader *Raft
	newest := -1
	for i, rf := range cfg.liveRafts() {
		if rf == nil || !cfg.isConnected(i) {
			continue
		}
		if term, isLeader := rf.GetState(); isLeader && term > newest {
			leader, newest = rf, term
		}
	}
	return leader
}

// short abbreviates long commands in messages.
func short(cmd any) string {
	s := fmt.Sprint(cmd)
	if len(s) > 20 {
		return s[:17] + "..."
	}
	return s
}

// begin starts the figures a test reports at its end.
func (cfg *config) begin(desc string) {
	cfg.desc = desc
	cfg.t0 = time.Now()
	cfg.rpcs0 = cfg.rpcTotal()
	cfg.bytes0 = cfg.bytesTotal()
	cfg.mu.Lock()
	cfg.index0 = cfg.maxIndex
	cfg.mu.Unlock()
}

// end checks the test's time limit and logs its figures: time, peers, RPCs, bytes, commits.
func (cfg *config) end() {
	cfg.t.Helper()
	cfg.checkFailure()
	elapsed := time.Since(cfg.t0)
	if elapsed > testDeadline {
		cfg.t.Fatalf("test took %v, longer than %v", elapsed.Round(time.Millisecond), testDeadline)
	}
	cfg.mu.Lock()
	commits := cfg.maxIndex - cfg.index0
	cfg.mu.Unlock()
	cfg.t.Logf("%s: %.1fs, %d peers, %d RPCs, %d bytes, %d commits", cfg.desc, elapsed.Seconds(),
		cfg.n, cfg.rpcTotal()-cfg.rpcs0, cfg.bytesTotal()-cfg.bytes0, commits)
}

// iterations returns normal, or soak under `make soak`: long runs find rare interleavings,
// the normal count keeps `make test` fast with the same checks.
func iterations(normal, soak int) int {
	if testutil.Soak() {
		return soak
	}
	return normal
}

// randCmd returns a random command.
func randCmd() int { return rand.IntN(1 << 30) }

// randString returns a random printable string of n bytes.
func randString(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(letters[rand.IntN(len(letters))])
	}
	return b.String()
}

// randomSleep lets the cluster run a random time below d: the tests' way of letting it reach a
// random point in its protocol before the next failure, not a synchronization.
func randomSleep(d time.Duration) {
	runFor(rand.N(d))
}

// disk returns peer i's simulated disk (makeDiskConfig).
func (cfg *config) disk(i int) *durable.MemFS {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	return cfg.disks[i]
}
