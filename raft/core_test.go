package raft

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// testCore returns a core for server me of n with a log holding one entry per given term.
func testCore(me, n int, term int, logTerms ...int) *core {
	c := newCore(coreConfig{me: me, peers: n, electionTicks: 10, heartbeatTicks: 3, maxBatch: 100,
		rng: rand.New(rand.NewPCG(1, uint64(me)))})
	c.term = term
	for i, t := range logTerms {
		c.log.append(Entry{Term: t, Command: i + 1})
	}
	c.markPersisted()
	return c
}

func logTerms(c *core) []int {
	var ts []int
	for i := c.log.snapIndex() + 1; i <= c.log.lastIndex(); i++ {
		ts = append(ts, c.log.term(i))
	}
	return ts
}

func entries(terms ...int) []Entry {
	es := make([]Entry, len(terms))
	for i, t := range terms {
		es[i] = Entry{Term: t, Command: 100 + i}
	}
	return es
}

func TestRequestVoteRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		term      int
		votedFor  int
		log       []int
		args      RequestVoteArgs
		granted   bool
		wantTerm  int
		wantVoted int
	}{
		{"stale term refused", 3, none, []int{1}, RequestVoteArgs{Term: 2, CandidateID: 1, LastLogIndex: 5, LastLogTerm: 2}, false, 3, none},
		{"fresh vote granted", 3, none, []int{1}, RequestVoteArgs{Term: 3, CandidateID: 1, LastLogIndex: 1, LastLogTerm: 1}, true, 3, 1},
		{"already voted for another", 3, 2, []int{1}, RequestVoteArgs{Term: 3, CandidateID: 1, LastLogIndex: 1, LastLogTerm: 1}, false, 3, 2},
		{"same candidate again", 3, 1, []int{1}, RequestVoteArgs{Term: 3, CandidateID: 1, LastLogIndex: 1, LastLogTerm: 1}, true, 3, 1},
		{"newer term clears vote", 3, 2, []int{1}, RequestVoteArgs{Term: 4, CandidateID: 1, LastLogIndex: 1, LastLogTerm: 1}, true, 4, 1},
		{"candidate last term older", 5, none, []int{1, 3}, RequestVoteArgs{Term: 5, CandidateID: 1, LastLogIndex: 9, LastLogTerm: 2}, false, 5, none},
		{"candidate last term newer, shorter log", 5, none, []int{1, 3, 3}, RequestVoteArgs{Term: 5, CandidateID: 1, LastLogIndex: 1, LastLogTerm: 4}, true, 5, 1},
		{"same last term, shorter log", 5, none, []int{1, 3, 3}, RequestVoteArgs{Term: 5, CandidateID: 1, LastLogIndex: 2, LastLogTerm: 3}, false, 5, none},
		{"same last term, equal length", 5, none, []int{1, 3, 3}, RequestVoteArgs{Term: 5, CandidateID: 1, LastLogIndex: 3, LastLogTerm: 3}, true, 5, 1},
		{"newer term but stale log still updates term", 3, 0, []int{3}, RequestVoteArgs{Term: 6, CandidateID: 1, LastLogIndex: 1, LastLogTerm: 2}, false, 6, none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCore(0, 3, tt.term, tt.log...)
			c.votedFor = tt.votedFor
			r := c.handleRequestVote(&tt.args)
			if r.VoteGranted != tt.granted || r.Term != tt.wantTerm || c.term != tt.wantTerm || c.votedFor != tt.wantVoted {
				t.Fatalf("got granted=%v term=%d (core term %d votedFor %d), want granted=%v term=%d votedFor %d",
					r.VoteGranted, r.Term, c.term, c.votedFor, tt.granted, tt.wantTerm, tt.wantVoted)
			}
			if (tt.granted || tt.wantTerm != tt.term) != c.dirty {
				t.Fatalf("dirty=%v after a change of term/vote=%v", c.dirty, tt.granted || tt.wantTerm != tt.term)
			}
		})
	}
}

func TestAppendEntriesRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		log        []int
		commit     int
		args       AppendEntriesArgs
		success    bool
		conflictT  int
		conflictI  int
		wantLog    []int
		wantCommit int
	}{
		{"stale term refused", []int{1}, 0, AppendEntriesArgs{Term: 1, PrevLogIndex: 1, PrevLogTerm: 1}, false, 0, 0, []int{1}, 0},
		{"append to empty", nil, 0, AppendEntriesArgs{Term: 2, Entries: entries(2, 2)}, true, 0, 0, []int{2, 2}, 0},
		{"log too short: hint is its length+1", []int{1, 1}, 0, AppendEntriesArgs{Term: 2, PrevLogIndex: 5, PrevLogTerm: 2}, false, 0, 3, []int{1, 1}, 0},
		{"term mismatch: hint is first index of that term", []int{1, 2, 2, 2}, 0, AppendEntriesArgs{Term: 4, PrevLogIndex: 4, PrevLogTerm: 3}, false, 2, 2, []int{1, 2, 2, 2}, 0},
		{"conflict truncates the suffix", []int{1, 2, 2}, 0, AppendEntriesArgs{Term: 3, PrevLogIndex: 1, PrevLogTerm: 1, Entries: entries(3)}, true, 0, 0, []int{1, 3}, 0},
		{"stale shorter append keeps newer entries", []int{1, 2, 2}, 0, AppendEntriesArgs{Term: 2, PrevLogIndex: 1, PrevLogTerm: 1, Entries: entries(2)}, true, 0, 0, []int{1, 2, 2}, 0},
		{"commit limited by last new entry", []int{1, 1, 1, 1}, 0, AppendEntriesArgs{Term: 2, PrevLogIndex: 2, PrevLogTerm: 1, LeaderCommit: 4}, true, 0, 0, []int{1, 1, 1, 1}, 2},
		{"commit to leader's", []int{1}, 0, AppendEntriesArgs{Term: 2, PrevLogIndex: 1, PrevLogTerm: 1, Entries: entries(2, 2), LeaderCommit: 2}, true, 0, 0, []int{1, 2, 2}, 2},
		{"commit never goes back", []int{1, 1, 1}, 3, AppendEntriesArgs{Term: 2, PrevLogIndex: 1, PrevLogTerm: 1, LeaderCommit: 1}, true, 0, 0, []int{1, 1, 1}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCore(0, 3, 2, tt.log...)
			c.commit = tt.commit
			r := c.handleAppendEntries(&tt.args)
			if r.Success != tt.success || r.ConflictTerm != tt.conflictT || r.ConflictIndex != tt.conflictI {
				t.Fatalf("reply %+v, want success=%v conflict=(%d,%d)", r, tt.success, tt.conflictT, tt.conflictI)
			}
			if got := logTerms(c); !slices.Equal(got, tt.wantLog) {
				t.Fatalf("log terms %v, want %v", got, tt.wantLog)
			}
			if c.commit != tt.wantCommit {
				t.Fatalf("commit %d, want %d", c.commit, tt.wantCommit)
			}
			if tt.args.Term >= 2 && (c.role != Follower || c.leader != tt.args.LeaderID || c.electionElapsed != 0) {
				t.Fatalf("valid AppendEntries must make a follower of the leader and reset the timer")
			}
		})
	}
}

func TestAppendEntriesBehindSnapshot(t *testing.T) {
	t.Parallel()
	c := testCore(0, 3, 2, 1, 1, 2, 2)
	c.commit, c.applied = 3, 3
	c.compact(3, []byte("s"))
	// Entries 2..5 from the leader: 2..3 are inside our snapshot and skipped.
	r := c.handleAppendEntries(&AppendEntriesArgs{Term: 2, PrevLogIndex: 1, PrevLogTerm: 1, Entries: entries(1, 2, 2, 2)})
	if !r.Success || c.log.lastIndex() != 5 || c.log.term(5) != 2 {
		t.Fatalf("reply %+v, last %d", r, c.log.lastIndex())
	}
	r = c.handleAppendEntries(&AppendEntriesArgs{Term: 2, PrevLogIndex: 0, Entries: entries(1)})
	if !r.Success || c.log.lastIndex() != 5 {
		t.Fatalf("wholly covered append: %+v last %d", r, c.log.lastIndex())
	}
}

func TestElectionTimeoutAndVotes(t *testing.T) {
	t.Parallel()
	c := testCore(0, 3, 1, 1)
	for range 2 * c.cfg.electionTicks {
		if c.role == Candidate {
			break
		}
		c.tick()
	}
	if c.role != Candidate || c.term != 2 || c.votedFor != 0 || !c.dirty {
		t.Fatalf("after timeout: role %v term %d votedFor %d", c.role, c.term, c.votedFor)
	}
	if c.electionTimeout < c.cfg.electionTicks || c.electionTimeout >= 2*c.cfg.electionTicks {
		t.Fatalf("timeout %d outside [%d, %d)", c.electionTimeout, c.cfg.electionTicks, 2*c.cfg.electionTicks)
	}
	c.markPersisted()
	out := c.outbox()
	if len(out) != 2 || out[0].vote == nil || out[0].vote.LastLogIndex != 1 || out[0].vote.LastLogTerm != 1 {
		t.Fatalf("vote requests %+v", out)
	}
	if len(c.outbox()) != 0 {
		t.Fatal("vote requests sent twice")
	}
	c.onVoteReply(out[0], &RequestVoteReply{Term: 2, VoteGranted: false})
	if c.role != Candidate {
		t.Fatal("a refusal made a leader")
	}
	c.onVoteReply(out[1], &RequestVoteReply{Term: 2, VoteGranted: true})
	if c.role != Leader || c.prs[1].next != 2 || c.prs[1].match != 0 {
		t.Fatalf("majority: role %v progress %+v", c.role, c.prs[1])
	}
	// Immediately assert leadership with heartbeats.
	hb := c.outbox()
	if len(hb) != 2 || hb[0].appendArgs == nil || hb[0].appendArgs.PrevLogIndex != 1 {
		t.Fatalf("heartbeats %+v", hb)
	}
}

func TestVoteReplyStaleOrHigherTerm(t *testing.T) {
	t.Parallel()
	c := testCore(0, 5, 1)
	c.campaign()
	old := c.outbox()[0]
	c.campaign() // a new election: the old term's votes must not count
	c.onVoteReply(old, &RequestVoteReply{Term: 2, VoteGranted: true})
	c.onVoteReply(old, &RequestVoteReply{Term: 2, VoteGranted: true})
	if c.role != Candidate {
		t.Fatal("votes of an old term counted")
	}
	c.onVoteReply(c.outbox()[0], &RequestVoteReply{Term: 7})
	if c.role != Follower || c.term != 7 || c.votedFor != none {
		t.Fatalf("higher term: role %v term %d", c.role, c.term)
	}
}

// leaderCore returns a core that is leader of term for n servers, with the given log.
func leaderCore(n, term int, log ...int) *core {
	c := testCore(0, n, term-1, log...)
	c.term = term
	c.becomeLeader()
	return c
}

func TestCommitOnlyCurrentTermByMajority(t *testing.T) {
	t.Parallel()
	c := leaderCore(5, 3, 1, 2, 2)
	out := c.outbox()
	// Two followers acknowledge index 3 (term 2): with the leader that is a majority, but an
	// entry of an older term must not be committed by counting (Figure 8).
	for _, m := range out[:2] {
		c.onAppendReply(m, &AppendEntriesReply{Term: 3, Success: true})
	}
	c.prs[1].match, c.prs[2].match = 3, 3
	c.maybeCommit()
	if c.commit != 0 {
		t.Fatalf("committed %d from an older term", c.commit)
	}
	idx, _, _ := c.propose("x")
	c.markPersisted()
	c.prs[1].match = idx
	c.maybeCommit()
	if c.commit != 0 {
		t.Fatal("committed without a majority")
	}
	c.prs[2].match = idx
	c.maybeCommit()
	if c.commit != idx {
		t.Fatalf("commit %d, want %d (and everything before it)", c.commit, idx)
	}
}

func TestLeaderCountsItselfOnlyWhenPersisted(t *testing.T) {
	t.Parallel()
	c := leaderCore(3, 2)
	idx, _, _ := c.propose("x")
	c.prs[1].match = idx
	c.maybeCommit()
	if c.commit != 0 {
		t.Fatal("leader counted an unpersisted entry")
	}
	c.markPersisted()
	if c.commit != idx {
		t.Fatalf("commit %d after persisting", c.commit)
	}
}

// TestReadyHoldsMessagesUntilStored: a candidate's vote requests and a leader's messages after
// it compacted its log wait for the update to be stored.
func TestReadyHoldsMessagesUntilStored(t *testing.T) {
	t.Parallel()
	c := testCore(0, 3, 1)
	for c.role != Candidate {
		c.tick()
	}
	if rd, ok := c.ready(); !ok || rd.update == nil || len(rd.messages) != 2 || rd.sendFirst {
		t.Fatalf("a candidate's ready: %+v", rd)
	}
	c = leaderCore(3, 2)
	c.propose("x")
	rd, _ := c.ready()
	c.advance(rd)
	c.commit, c.applied = 1, 1
	c.compact(1, []byte("snap"))
	if rd, ok := c.ready(); !ok || rd.update == nil || rd.update.Snapshot == nil || rd.sendFirst {
		t.Fatalf("a leader's ready after compaction: %+v", rd)
	}
}

// TestReadyAdvance walks one command through the core's boundary: the leader's ready carries the
// state to save and the entry for each follower; its own copy counts toward a majority only
// after advance; once committed, the next ready carries it to apply, and then nothing is left.
func TestReadyAdvance(t *testing.T) {
	t.Parallel()
	c := leaderCore(3, 2)
	if rd, ok := c.ready(); !ok || rd.update != nil || len(rd.messages) != 2 {
		t.Fatalf("a new leader's first ready: %+v %v, want two heartbeats and no update", rd, ok)
	}
	idx, _, _ := c.propose("x")
	rd, ok := c.ready()
	if !ok || rd.update == nil || len(rd.messages) != 2 || len(rd.committed) != 0 || !rd.sendFirst {
		t.Fatalf("ready after Start: %+v %v (a leader's entries may go before its own copy is stored)", rd, ok)
	}
	if u := rd.update; u.Term != 2 || u.From != idx || len(u.Entries) != 1 || u.Entries[0].Command != "x" || u.Snapshot != nil {
		t.Fatalf("update to store: %+v", u)
	}
	for _, m := range rd.messages {
		if len(m.appendArgs.Entries) != 1 {
			t.Fatalf("message to %d carries %d entries", m.to, len(m.appendArgs.Entries))
		}
	}
	c.onAppendReply(rd.messages[0], &AppendEntriesReply{Term: 2, Success: true})
	if c.commit != 0 {
		t.Fatal("committed before the leader's own copy was saved")
	}
	c.advance(rd)
	if c.commit != idx {
		t.Fatalf("commit %d after advance, want %d", c.commit, idx)
	}
	rd, ok = c.ready()
	if !ok || rd.update != nil || len(rd.committed) != 1 || rd.committed[0].Command != "x" {
		t.Fatalf("ready after commit: %+v %v", rd, ok)
	}
	c.advance(rd)
	if rd, ok := c.ready(); ok {
		t.Fatalf("a ready with nothing to do: %+v", rd)
	}
}

func TestBacktrackingHint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		leaderLog []int
		reply     AppendEntriesReply
		next      int
	}{
		{"follower too short", []int{1, 1, 2, 2, 3}, AppendEntriesReply{ConflictIndex: 3}, 3},
		{"leader has the term: after its last entry of it", []int{1, 1, 2, 2, 3}, AppendEntriesReply{ConflictTerm: 2, ConflictIndex: 2}, 5},
		{"leader lacks the term: skip the follower's whole term", []int{1, 1, 3, 3, 3}, AppendEntriesReply{ConflictTerm: 2, ConflictIndex: 3}, 3},
		{"hint past the leader's log is clamped", []int{1}, AppendEntriesReply{ConflictIndex: 9}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := leaderCore(3, 4, tt.leaderLog...)
			m := c.outbox()[0]
			r := tt.reply
			r.Term = 4
			c.onAppendReply(m, &r)
			if c.prs[1].next != tt.next {
				t.Fatalf("next %d, want %d", c.prs[1].next, tt.next)
			}
		})
	}
}

func TestStaleRepliesIgnored(t *testing.T) {
	t.Parallel()
	c := leaderCore(3, 4, 1, 2, 3)
	first := c.outbox()[0]
	c.onAppendReply(first, &AppendEntriesReply{Term: 4, ConflictIndex: 2})
	if c.prs[1].next != 2 {
		t.Fatalf("next %d", c.prs[1].next)
	}
	// A duplicate of the same rejection arrives late: next has moved, so it changes nothing.
	c.onAppendReply(first, &AppendEntriesReply{Term: 4, ConflictIndex: 1})
	if c.prs[1].next != 2 {
		t.Fatalf("stale rejection moved next to %d", c.prs[1].next)
	}
	m := c.outbox()[0]
	c.onAppendReply(m, &AppendEntriesReply{Term: 4, Success: true})
	if c.prs[1].match != 3 || c.prs[1].next != 4 {
		t.Fatalf("match %d next %d", c.prs[1].match, c.prs[1].next)
	}
	// A late success for a shorter prefix never lowers match.
	c.onAppendReply(message{to: 1, appendArgs: &AppendEntriesArgs{Term: 4, PrevLogIndex: 0, Entries: entries(1)}}, &AppendEntriesReply{Term: 4, Success: true})
	if c.prs[1].match != 3 || c.prs[1].next != 4 {
		t.Fatalf("after late success: match %d next %d", c.prs[1].match, c.prs[1].next)
	}
	// A reply from an earlier term of ours is ignored.
	c.onAppendReply(message{to: 2, appendArgs: &AppendEntriesArgs{Term: 3, PrevLogIndex: 3}}, &AppendEntriesReply{Term: 4, Success: true})
	if c.prs[2].match != 0 {
		t.Fatal("reply of an old term counted")
	}
}

func TestOneReplicatingMessageInFlight(t *testing.T) {
	t.Parallel()
	c := leaderCore(2, 2) // heartbeat every 3 ticks
	if hb := c.outbox(); len(hb) != 1 || c.prs[1].inflight != 0 {
		t.Fatalf("the first heartbeat is empty and takes no slot: %+v", hb)
	}
	c.tick()
	c.tick()
	c.propose("a")
	c.markPersisted()
	if out := c.outbox(); len(out) != 1 || len(out[0].appendArgs.Entries) != 1 || c.prs[1].inflight == 0 {
		t.Fatalf("entries go at once and take the slot: %+v", out)
	}
	c.propose("b")
	c.markPersisted()
	if out := c.outbox(); len(out) != 0 {
		t.Fatalf("sent %d messages while one is in flight", len(out))
	}
	c.tick() // heartbeat at tick 3; the slot is 1 tick old
	hb := c.outbox()
	if len(hb) != 1 || len(hb[0].appendArgs.Entries) != 0 {
		t.Fatalf("heartbeat while busy must be empty: %+v", hb)
	}
	// The slot outlives a heartbeat interval: the message is presumed lost and the next
	// heartbeat carries the entries, so a follower coming back catches up at once.
	for range c.cfg.heartbeatTicks {
		c.tick()
	}
	hb = c.outbox()
	if len(hb) != 1 || len(hb[0].appendArgs.Entries) != 2 {
		t.Fatalf("heartbeat after a lost message must carry entries: %+v", hb)
	}
}

func TestCommitNewsTakesNoSlot(t *testing.T) {
	t.Parallel()
	c := leaderCore(3, 2)
	c.outbox()
	c.propose("a")
	c.markPersisted()
	out := c.outbox()
	c.onAppendReply(out[0], &AppendEntriesReply{Term: 2, Success: true})
	if c.commit != 1 {
		t.Fatalf("commit %d", c.commit)
	}
	if out := c.outbox(); len(out) != 0 {
		t.Fatalf("commit news before the next tick: %+v", out)
	}
	c.tick()
	news := c.outbox()
	// Peer 1 answered and learns the commit; peer 2 still holds its batch.
	if len(news) != 1 || news[0].to != 1 || news[0].appendArgs.LeaderCommit != 1 || len(news[0].appendArgs.Entries) != 0 || c.prs[1].inflight != 0 {
		t.Fatalf("commit news %+v", news)
	}
	// A new command goes to peer 1 at once, not after the commit news returns.
	c.propose("b")
	c.markPersisted()
	if out := c.outbox(); len(out) != 1 || out[0].to != 1 || len(out[0].appendArgs.Entries) != 1 {
		t.Fatalf("next batch %+v", out)
	}
}

func TestZeroReplyIsNotAReply(t *testing.T) {
	t.Parallel()
	c := leaderCore(3, 4, 1, 2, 3)
	m := c.outbox()[0]
	c.onAppendReply(m, &AppendEntriesReply{})
	if c.prs[1].next != 4 || c.prs[1].inflight != 0 {
		t.Fatalf("a zero reply moved next to %d (inflight %d)", c.prs[1].next, c.prs[1].inflight)
	}
	c.campaign()
	v := c.outbox()[0]
	c.onVoteReply(v, &RequestVoteReply{VoteGranted: true})
	if c.prs[v.to].voteGranted {
		t.Fatal("a zero reply counted as a vote")
	}
}

func TestBatchingAfterReply(t *testing.T) {
	t.Parallel()
	c := leaderCore(2, 2)
	first := c.outbox()[0]
	for i := range 250 {
		c.propose(i)
	}
	c.markPersisted()
	c.onAppendReply(first, &AppendEntriesReply{Term: 2, Success: true})
	out := c.outbox()
	if len(out) != 1 || len(out[0].appendArgs.Entries) != c.cfg.maxBatch {
		t.Fatalf("want one batch of %d, got %+v", c.cfg.maxBatch, len(out))
	}
	c.onAppendReply(out[0], &AppendEntriesReply{Term: 2, Success: true})
	if c.commit != 100 {
		t.Fatalf("commit %d", c.commit)
	}
	out = c.outbox()
	if len(out[0].appendArgs.Entries) != 100 || out[0].appendArgs.LeaderCommit != 100 {
		t.Fatalf("second batch %d entries commit %d", len(out[0].appendArgs.Entries), out[0].appendArgs.LeaderCommit)
	}
}

func TestUnreachablePausesUntilHeartbeat(t *testing.T) {
	t.Parallel()
	c := leaderCore(2, 2)
	c.propose("a")
	c.markPersisted()
	m := c.outbox()[0]
	c.onUnreachable(m)
	if len(c.outbox()) != 0 {
		t.Fatal("retried a failed peer at once")
	}
	for range c.cfg.heartbeatTicks {
		c.tick()
	}
	if out := c.outbox(); len(out) != 1 || len(out[0].appendArgs.Entries) != 1 {
		t.Fatalf("heartbeat retry %+v", out)
	}
}

func TestSnapshotCompactAndInstall(t *testing.T) {
	t.Parallel()
	c := leaderCore(2, 3, 1, 1, 2, 3)
	c.commit = 3
	if c.compact(2, []byte("s2")) {
		t.Fatal("compacted beyond what was applied")
	}
	c.takeApply()
	if !c.compact(2, []byte("s2")) || c.log.snapIndex() != 2 || c.log.snapTerm() != 1 || !slices.Equal(logTerms(c), []int{2, 3}) {
		t.Fatalf("compact: snap %d/%d log %v", c.log.snapIndex(), c.log.snapTerm(), logTerms(c))
	}
	if c.compact(1, nil) {
		t.Fatal("compacted backwards")
	}
	// A follower far behind gets the snapshot.
	c.prs[1].next = 1
	c.prs[1].inflight = 0
	m := c.outbox()[0]
	if m.snap == nil || m.snap.LastIncludedIndex != 2 || string(m.snap.Data) != "s2" {
		t.Fatalf("want InstallSnapshot, got %+v", m)
	}
	c.onSnapshotReply(m, &InstallSnapshotReply{Term: 3})
	if c.prs[1].match != 2 || c.prs[1].next != 3 {
		t.Fatalf("after snapshot: match %d next %d", c.prs[1].match, c.prs[1].next)
	}

	f := testCore(1, 2, 1, 1, 1, 1, 1, 1) // follower: its entry 2 (term 1) matches the snapshot
	r := f.handleInstallSnapshot(m.snap)
	if r.Term != 3 || f.log.snapIndex() != 2 || f.log.lastIndex() != 5 || f.commit != 2 {
		t.Fatalf("matching prefix: keep the suffix: snap %d last %d commit %d", f.log.snapIndex(), f.log.lastIndex(), f.commit)
	}
	msgs := f.takeApply()
	if len(msgs) != 1 || !msgs[0].SnapshotValid || msgs[0].SnapshotIndex != 2 {
		t.Fatalf("apply %+v", msgs)
	}
	g := testCore(1, 2, 1, 3, 3, 3) // conflicting log: dropped
	g.handleInstallSnapshot(m.snap)
	if g.log.snapIndex() != 2 || g.log.lastIndex() != 2 {
		t.Fatalf("conflict: snap %d last %d", g.log.snapIndex(), g.log.lastIndex())
	}
	old := &InstallSnapshotArgs{Term: 3, LastIncludedIndex: 1, LastIncludedTerm: 1}
	if g.handleInstallSnapshot(old); g.log.snapIndex() != 2 {
		t.Fatal("an older snapshot replaced a newer one")
	}
}

func TestApplyInOrderExactlyOnce(t *testing.T) {
	t.Parallel()
	c := testCore(0, 1, 0, 1, 1, 1, 1)
	c.commit = 2
	a := c.takeApply()
	c.commit = 4
	b := c.takeApply()
	if len(a) != 2 || len(b) != 2 || a[0].CommandIndex != 1 || b[1].CommandIndex != 4 || len(c.takeApply()) != 0 {
		t.Fatalf("apply batches %+v %+v", a, b)
	}
}

func TestSingleServerCommitsAlone(t *testing.T) {
	t.Parallel()
	c := testCore(0, 1, 0)
	for c.role != Leader {
		c.tick()
	}
	idx, _, ok := c.propose("x")
	c.markPersisted()
	if !ok || c.commit != idx {
		t.Fatalf("commit %d, want %d", c.commit, idx)
	}
}

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	c := testCore(0, 3, 5, 1, 4, 5)
	c.votedFor = 2
	c.commit, c.applied = 2, 2
	c.compact(1, []byte("snap"))
	p := NewMemoryPersister()
	rd, _ := c.ready()
	if err := p.Store(*rd.update); err != nil {
		t.Fatal(err)
	}
	q := NewMemoryPersister()
	q.Save(p.ReadRaftState(), p.ReadSnapshot()) // through the encoded form too
	st, err := q.Load()
	if err != nil {
		t.Fatal(err)
	}
	d := testCore(0, 3, 0)
	d.restore(st)
	if d.term != 5 || d.votedFor != 2 || d.log.snapIndex() != 1 || !slices.Equal(logTerms(d), []int{4, 5}) || d.commit != 1 {
		t.Fatalf("restored %+v", st)
	}
	if string(d.snapshot) != "snap" {
		t.Fatalf("restored snapshot %q", d.snapshot)
	}
	if _, err := decodeState([]byte("garbage")); err == nil {
		t.Fatal("decoded garbage")
	}
}
