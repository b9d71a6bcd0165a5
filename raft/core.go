package raft

import (
	"math/rand/v2"
	"slices"
)

// Role is a server's part in the protocol.
type Role int

// The three roles of Figure 2.
const (
	Follower Role = iota
	Candidate
	Leader
)

// String returns the role's name: follower, candidate or leader.
func (r Role) String() string {
	switch r {
	case Follower:
		return "follower"
	case Candidate:
		return "candidate"
	case Leader:
		return "leader"
	}
	return "unknown"
}

// none is votedFor and leader when there is no vote or no known leader.
const none = -1

// coreConfig sizes the core's clock and batches. Times are in ticks; the loop decides how long a
// tick is.
type coreConfig struct {
	me, peers      int
	electionTicks  int // election timeout is random in [electionTicks, 2*electionTicks)
	heartbeatTicks int // a leader contacts every follower at least this often
	maxBatch       int // entries per AppendEntries
	rng            *rand.Rand
}

// message is one RPC the core wants sent. Exactly one of the argument pointers is set. seq
// identifies it so the reply can release the per-peer in-flight slot it took.
type message struct {
	to         int
	seq        uint64
	vote       *RequestVoteArgs
	appendArgs *AppendEntriesArgs
	snap       *InstallSnapshotArgs
}

// progress is what the core tracks about one other peer: as a leader, how far the peer's log
// matches and what is on its way to it (etcd's tracker.Progress); as a candidate, its vote.
type progress struct {
	next, match int    // next index to send; highest index known to be replicated there
	sentCommit  int    // last LeaderCommit sent, to push commits promptly
	inflight    uint64 // seq of the one outstanding replicating message, 0 if none
	sentAt      int    // tick at which inflight was sent
	heartbeat   bool   // a heartbeat is due regardless of inflight
	paused      bool   // the last send failed: wait for the next heartbeat before retrying

	voteGranted bool // candidate: the peer granted its vote this term
	voteDue     bool // candidate: the vote request is still to be sent
}

// core is Raft's deterministic state machine: Figure 2 and snapshots, with no goroutines,
// clocks or I/O. The loop feeds it ticks, incoming RPCs, replies and API calls, then takes a
// ready, carries it out (persist, then send, then apply) and acknowledges it with advance.
// Every message and reply must leave only after the state it reflects has been persisted.
type core struct {
	cfg coreConfig

	// Persistent state (Figure 2), with the log's snapshot offset and the snapshot itself.
	term      int
	votedFor  int
	log       raftLog
	snapshot  []byte
	dirty     bool // persistent state changed since the last markPersisted
	snapDirty bool // the snapshot changed since then
	voteDirty bool // the term or vote changed since then

	// Volatile state.
	role      Role
	leader    int
	commit    int
	applied   int  // last index handed to the applier (commands or snapshot)
	snapReady bool // an installed snapshot waits to be handed to the applier
	selfMatch int  // highest own index known to be persisted, for counting the leader's vote

	electionElapsed, electionTimeout int
	heartbeatElapsed                 int
	now                              int // ticks since start

	// Per-peer state: the candidate's votes and the leader's replication progress, reset on
	// each campaign and election. prs[me] is unused.
	prs     []progress
	newsDue bool // a tick passed: tell idle followers about a higher commit index
	seq     uint64
}

func newCore(cfg coreConfig) *core {
	c := &core{
		cfg:      cfg,
		votedFor: none,
		log:      newLog(),
		leader:   none,
		prs:      make([]progress, cfg.peers),
	}
	c.resetElectionTimer()
	return c
}

// restore loads persisted state, as at a restart. Entries up to the snapshot count as committed
// and applied: the service restores the snapshot itself.
func (c *core) restore(st Saved) {
	c.term, c.votedFor = st.Term, st.VotedFor
	c.log.reset(st.Snapshot.Index, st.Snapshot.Term)
	c.log.append(st.Entries...)
	c.log.stabilize()
	c.snapshot = st.Snapshot.Data
	c.commit, c.applied = st.Snapshot.Index, st.Snapshot.Index
	c.selfMatch = c.log.lastIndex()
}

// ready is what the core asks of the loop after a step, in etcd's Ready/Advance style. The loop
// carries it out in order: store update (when set), then send messages, then deliver committed
// on the apply channel; and it calls advance once the update is stored, before the next step. A
// reply to an incoming RPC is held back until then too.
type ready struct {
	update   *Update // the change to the persistent state, nil if none
	messages []message
	// sendFirst says the messages may leave before update is stored: a leader whose term and
	// vote are durable sends its new entries while it stores its own copy (Raft thesis
	// §10.2.1), since it counts that copy toward a majority only after advance.
	sendFirst bool
	committed []ApplyMsg // committed commands and installed snapshots, in log order
}

// ready returns what the loop should do now, or false if nothing. The update's entries alias
// the log: they are valid until the core next changes. Taking a ready hands the messages and
// committed entries over (their in-flight slots and the applied index are marked); the update
// counts as durable only once advance is called.
func (c *core) ready() (ready, bool) {
	var rd ready
	if c.dirty {
		u := &Update{Term: c.term, VotedFor: c.votedFor}
		if c.snapDirty {
			u.Snapshot = &Snapshot{Index: c.log.snapIndex(), Term: c.log.snapTerm(), Data: c.snapshot}
			u.From, u.Entries = c.log.snapIndex()+1, c.log.entries[1:]
		} else if es, ok := c.log.unstable(); ok {
			u.From, u.Entries = c.log.stable+1, es
		}
		rd.update = u
	}
	rd.messages = c.outbox()
	rd.sendFirst = c.role == Leader && !c.voteDirty && !c.snapDirty
	if c.hasApply() {
		rd.committed = c.takeApply()
	}
	if rd.update == nil && len(rd.messages) == 0 && len(rd.committed) == 0 {
		return ready{}, false
	}
	return rd, true
}

// advance acknowledges that rd's update has been stored: the leader may now count its own copy
// of the log toward a majority, which can commit more (so another ready may follow).
func (c *core) advance(rd ready) {
	if rd.update != nil {
		c.markPersisted()
	}
}

// markPersisted tells the core that its current state is durable.
func (c *core) markPersisted() {
	c.dirty, c.snapDirty, c.voteDirty = false, false, false
	c.log.stabilize()
	c.selfMatch = c.log.lastIndex()
	if c.role == Leader {
		c.maybeCommit()
	}
}

func (c *core) majority() int { return c.cfg.peers/2 + 1 }

func (c *core) resetElectionTimer() {
	c.electionElapsed = 0
	c.electionTimeout = c.cfg.electionTicks + c.cfg.rng.IntN(c.cfg.electionTicks)
}

// tick advances the logical clock by one tick.
func (c *core) tick() {
	c.now++
	if c.role == Leader {
		c.newsDue = true
		c.heartbeatElapsed++
		if c.heartbeatElapsed >= c.cfg.heartbeatTicks {
			c.heartbeatElapsed = 0
			for p := range c.prs {
				c.prs[p].heartbeat = p != c.cfg.me
				c.prs[p].paused = false
				// A message outstanding for a whole heartbeat interval is presumed lost (a
				// call to an unreachable peer may take far longer to fail): free its slot so
				// this heartbeat carries entries and a returning follower catches up at once.
				// A late reply is still harmless; progress only moves forward.
				if c.prs[p].inflight != 0 && c.now-c.prs[p].sentAt >= c.cfg.heartbeatTicks {
					c.prs[p].inflight = 0
				}
			}
		}
		return
	}
	c.electionElapsed++
	if c.electionElapsed >= c.electionTimeout {
		c.campaign()
	}
}

// becomeFollower moves to term (if newer, forgetting the vote) as a follower.
func (c *core) becomeFollower(term, leader int) {
	if term > c.term {
		c.term = term
		c.votedFor = none
		c.dirty, c.voteDirty = true, true
	}
	c.role = Follower
	c.leader = leader
}

// campaign starts an election (§5.2): new term, vote for self, ask everyone else.
func (c *core) campaign() {
	c.term++
	c.votedFor = c.cfg.me
	c.dirty, c.voteDirty = true, true
	c.role = Candidate
	c.leader = none
	c.resetElectionTimer()
	for p := range c.prs {
		c.prs[p].voteGranted = p == c.cfg.me
		c.prs[p].voteDue = p != c.cfg.me
	}
	c.countVotes()
}

func (c *core) countVotes() {
	granted := 0
	for _, pr := range c.prs {
		if pr.voteGranted {
			granted++
		}
	}
	if granted >= c.majority() {
		c.becomeLeader()
	}
}

func (c *core) becomeLeader() {
	c.role = Leader
	c.leader = c.cfg.me
	c.heartbeatElapsed = 0
	for p := range c.prs {
		c.prs[p].next = c.log.lastIndex() + 1
		c.prs[p].match = 0
		c.prs[p].sentCommit = 0
		c.prs[p].inflight = 0
		c.prs[p].heartbeat = p != c.cfg.me
		c.prs[p].paused = false
		c.prs[p].voteDue = false
	}
}

// propose appends a command if this server is the leader (Start).
func (c *core) propose(cmd any) (index, term int, ok bool) {
	if c.role != Leader {
		return c.log.lastIndex() + 1, c.term, false
	}
	c.log.append(Entry{Term: c.term, Command: cmd})
	c.dirty = true
	return c.log.lastIndex(), c.term, true
}

// handleRequestVote is the receiver side of RequestVote (Figure 2).
func (c *core) handleRequestVote(args *RequestVoteArgs) RequestVoteReply {
	if args.Term < c.term {
		return RequestVoteReply{Term: c.term}
	}
	if args.Term > c.term {
		c.becomeFollower(args.Term, none)
	}
	canVote := c.votedFor == none || c.votedFor == args.CandidateID
	if canVote && c.log.upToDate(args.LastLogIndex, args.LastLogTerm) {
		c.votedFor = args.CandidateID
		c.dirty, c.voteDirty = true, true
		c.resetElectionTimer()
		return RequestVoteReply{Term: c.term, VoteGranted: true}
	}
	return RequestVoteReply{Term: c.term}
}

// handleAppendEntries is the receiver side of AppendEntries (Figure 2) with the conflict hint.
func (c *core) handleAppendEntries(args *AppendEntriesArgs) AppendEntriesReply {
	if args.Term < c.term {
		return AppendEntriesReply{Term: c.term}
	}
	c.becomeFollower(args.Term, args.LeaderID)
	c.resetElectionTimer()

	prev, prevTerm, entries := args.PrevLogIndex, args.PrevLogTerm, args.Entries
	if snap := c.log.snapIndex(); prev < snap {
		// The prefix up to the snapshot is committed here already, so it matches the leader's
		// (Log Matching); skip it and check from the snapshot's last entry.
		skip := snap - prev
		if skip >= len(entries) {
			return AppendEntriesReply{Term: c.term, Success: true}
		}
		entries = entries[skip:]
		prev, prevTerm = snap, c.log.snapTerm()
	}
	if prev > c.log.lastIndex() {
		return AppendEntriesReply{Term: c.term, ConflictIndex: c.log.lastIndex() + 1}
	}
	if t := c.log.term(prev); t != prevTerm {
		return AppendEntriesReply{Term: c.term, ConflictTerm: t, ConflictIndex: c.log.firstIndexOfTerm(prev)}
	}

	// Append, truncating only at a real conflict: a stale, shorter AppendEntries must not cut
	// off entries a newer one already added.
	for i, e := range entries {
		idx := prev + 1 + i
		if idx <= c.log.lastIndex() {
			if c.log.term(idx) == e.Term {
				continue
			}
			c.log.truncateFrom(idx)
		}
		c.log.append(entries[i:]...)
		c.dirty = true
		break
	}
	if lastNew := prev + len(entries); args.LeaderCommit > c.commit {
		c.commit = max(c.commit, min(args.LeaderCommit, lastNew))
	}
	return AppendEntriesReply{Term: c.term, Success: true}
}

// handleInstallSnapshot is the receiver side of InstallSnapshot (Figure 13).
func (c *core) handleInstallSnapshot(args *InstallSnapshotArgs) InstallSnapshotReply {
	if args.Term < c.term {
		return InstallSnapshotReply{Term: c.term}
	}
	c.becomeFollower(args.Term, args.LeaderID)
	c.resetElectionTimer()

	idx, term := args.LastIncludedIndex, args.LastIncludedTerm
	if idx <= c.commit {
		return InstallSnapshotReply{Term: c.term} // nothing new: we have committed that far
	}
	if c.log.has(idx) && c.log.term(idx) == term {
		c.log.compact(idx) // keep the entries that follow the snapshot
	} else {
		c.log.reset(idx, term)
	}
	c.snapshot = args.Data
	c.commit = idx
	c.snapReady = true
	c.dirty, c.snapDirty = true, true
	return InstallSnapshotReply{Term: c.term}
}

// compact is the service's Snapshot(index, data): it has applied through index, so the log up to
// there can go.
func (c *core) compact(index int, data []byte) bool {
	if index <= c.log.snapIndex() || index > c.applied || index > c.log.lastIndex() {
		return false
	}
	c.log.compact(index)
	c.snapshot = data
	c.dirty, c.snapDirty = true, true
	return true
}

// outbox returns the RPCs to send now, marking what they take (vote requests done, in-flight
// slots, heartbeats). A replicating message is sent only when the peer has no other one in
// flight; the batch then covers everything the peer lacks, so load forms bigger batches rather
// than more RPCs.
func (c *core) outbox() []message {
	var out []message
	for p := 0; p < c.cfg.peers; p++ {
		if p == c.cfg.me {
			continue
		}
		switch c.role {
		case Candidate:
			if c.prs[p].voteDue {
				c.prs[p].voteDue = false
				out = append(out, message{to: p, vote: &RequestVoteArgs{
					Term: c.term, CandidateID: c.cfg.me,
					LastLogIndex: c.log.lastIndex(), LastLogTerm: c.log.lastTerm(),
				}})
			}
		case Leader:
			if m, ok := c.replicate(p); ok {
				out = append(out, m)
			}
		}
	}
	c.newsDue = false
	return out
}

// replicate decides what, if anything, goes to peer p now. Entries and snapshots go in a
// message that takes p's in-flight slot; news of a higher commit index and heartbeats go in an
// empty AppendEntries that takes no slot, so they never hold up the next batch. Commit news
// waits for the next tick: under load the next batch carries it anyway, and sending it on
// every commit would double the RPCs.
func (c *core) replicate(p int) (message, bool) {
	idle := c.prs[p].inflight == 0 && !c.prs[p].paused
	hb := c.prs[p].heartbeat
	needsSnap := c.prs[p].next <= c.log.snapIndex()
	hasEntries := c.prs[p].next <= c.log.lastIndex()
	commitNews := c.prs[p].sentCommit < c.commit
	var m message
	switch {
	case needsSnap && idle:
		m.snap = &InstallSnapshotArgs{
			Term: c.term, LeaderID: c.cfg.me,
			LastIncludedIndex: c.log.snapIndex(), LastIncludedTerm: c.log.snapTerm(),
			Data: c.snapshot,
		}
	case needsSnap:
		// The snapshot in flight stands in for the heartbeat; the slot's lifetime bounds
		// how long it may.
		return message{}, false
	case (idle && hasEntries) || (idle && commitNews && c.newsDue) || hb:
		prev := c.prs[p].next - 1
		m.appendArgs = &AppendEntriesArgs{
			Term: c.term, LeaderID: c.cfg.me,
			PrevLogIndex: prev, PrevLogTerm: c.log.term(prev),
			LeaderCommit: c.commit,
		}
		if idle && hasEntries {
			last := min(c.log.lastIndex(), prev+c.cfg.maxBatch)
			m.appendArgs.Entries = c.log.slice(prev+1, last)
		}
		c.prs[p].sentCommit = c.commit
	default:
		return message{}, false
	}
	c.prs[p].heartbeat = false
	c.seq++
	m.to, m.seq = p, c.seq
	if m.snap != nil || len(m.appendArgs.Entries) > 0 {
		c.take(p, m.seq)
	}
	return m, true
}

func (c *core) take(p int, seq uint64) {
	c.prs[p].inflight = seq
	c.prs[p].sentAt = c.now
}

// release frees the in-flight slot m took, if it still holds it.
func (c *core) release(m message) {
	if c.prs[m.to].inflight == m.seq {
		c.prs[m.to].inflight = 0
	}
}

// onReply steps the core with the outcome of message m: reply is what came back, if ok.
func (c *core) onReply(m message, ok bool, reply any) {
	if !ok {
		c.onUnreachable(m)
		return
	}
	switch r := reply.(type) {
	case *RequestVoteReply:
		c.onVoteReply(m, r)
	case *AppendEntriesReply:
		c.onAppendReply(m, r)
	case *InstallSnapshotReply:
		c.onSnapshotReply(m, r)
	}
}

// onUnreachable handles a message that got no reply: retry at the next heartbeat.
func (c *core) onUnreachable(m message) {
	if c.prs[m.to].inflight == m.seq {
		c.prs[m.to].inflight = 0
		c.prs[m.to].paused = true
	}
}

// onVoteReply counts a vote (§5.2).
func (c *core) onVoteReply(m message, r *RequestVoteReply) {
	if r.Term < m.vote.Term {
		return // not a real reply: a live receiver's term is at least the request's
	}
	if r.Term > c.term {
		c.becomeFollower(r.Term, none)
		return
	}
	if c.role != Candidate || m.vote.Term != c.term || !r.VoteGranted {
		return
	}
	c.prs[m.to].voteGranted = true
	c.countVotes()
}

// onAppendReply advances or backs up the follower's position (§5.3 and the fast-backup hint).
func (c *core) onAppendReply(m message, r *AppendEntriesReply) {
	if r.Term < m.appendArgs.Term {
		c.onUnreachable(m) // not a real reply (a stopped server's zero reply)
		return
	}
	c.release(m)
	if r.Term > c.term {
		c.becomeFollower(r.Term, none)
		return
	}
	args, p := m.appendArgs, m.to
	if c.role != Leader || args.Term != c.term {
		return
	}
	if r.Success {
		if n := args.PrevLogIndex + len(args.Entries); n > c.prs[p].match {
			c.prs[p].match = n
			c.maybeCommit()
		}
		c.prs[p].next = max(c.prs[p].next, c.prs[p].match+1)
		return
	}
	if args.PrevLogIndex != c.prs[p].next-1 {
		return // a stale rejection: next has moved since
	}
	next := r.ConflictIndex
	if r.ConflictTerm > 0 {
		if last := c.log.lastIndexOfTerm(r.ConflictTerm); last > 0 {
			next = last + 1
		}
	}
	// Never back up past what the follower is known to hold, nor beyond our own log.
	c.prs[p].next = min(max(next, c.prs[p].match+1, 1), c.log.lastIndex()+1)
}

// onSnapshotReply records a follower's progress after InstallSnapshot.
func (c *core) onSnapshotReply(m message, r *InstallSnapshotReply) {
	if r.Term < m.snap.Term {
		c.onUnreachable(m)
		return
	}
	c.release(m)
	if r.Term > c.term {
		c.becomeFollower(r.Term, none)
		return
	}
	if c.role != Leader || m.snap.Term != c.term {
		return
	}
	p := m.to
	c.prs[p].match = max(c.prs[p].match, m.snap.LastIncludedIndex)
	c.prs[p].next = max(c.prs[p].next, c.prs[p].match+1)
	c.maybeCommit()
}

// maybeCommit advances commit to the highest index stored on a majority, but only by counting
// an entry of the current term (§5.4.2, Figure 8): earlier terms commit indirectly.
func (c *core) maybeCommit() {
	matches := make([]int, 0, c.cfg.peers)
	for p, pr := range c.prs {
		m := pr.match
		if p == c.cfg.me {
			m = min(c.selfMatch, c.log.lastIndex())
		}
		matches = append(matches, m)
	}
	slices.Sort(matches)
	n := matches[c.cfg.peers-c.majority()]
	if n > c.commit && c.log.term(n) == c.term {
		c.commit = n
	}
}

// hasApply reports whether takeApply has something to hand out.
func (c *core) hasApply() bool { return c.applied < c.commit || c.snapReady }

// takeApply returns what the applier should deliver next, in order, and marks it handed over:
// a snapshot installed from the leader first, then the newly committed commands.
func (c *core) takeApply() []ApplyMsg {
	var out []ApplyMsg
	if c.snapReady {
		c.snapReady = false
		if c.log.snapIndex() > c.applied {
			out = append(out, ApplyMsg{
				SnapshotValid: true, Snapshot: c.snapshot,
				SnapshotIndex: c.log.snapIndex(), SnapshotTerm: c.log.snapTerm(),
			})
			c.applied = c.log.snapIndex()
		}
	}
	for c.applied < c.commit {
		c.applied++
		out = append(out, ApplyMsg{CommandValid: true, Command: c.log.entries[c.applied-c.log.offset].Command, CommandIndex: c.applied})
	}
	return out
}
