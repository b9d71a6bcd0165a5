package raft

import (
	"errors"
	"fmt"
)

// ErrInvalidRPC is returned by the TCP transport's handlers for arguments no correct peer sends
// (a negative term or index, a sender outside the cluster, entries out of term order): a stray
// or corrupt message gets an error instead of reaching the state machine.
var ErrInvalidRPC = errors.New("raft: invalid RPC arguments")

func invalid(what string, v int) error { return fmt.Errorf("%w: %s %d", ErrInvalidRPC, what, v) }

// checkHeader checks what every request carries: the sender's id, the sender's term and a log
// position (index, term) it refers to, which cannot lie in a later term.
func checkHeader(sender, term, index, logTerm, peers, me int) error {
	switch {
	case sender < 0 || sender >= peers || sender == me:
		return invalid("sender", sender)
	case term < 0:
		return invalid("term", term)
	case index < 0:
		return invalid("log index", index)
	case logTerm < 0 || logTerm > term:
		return invalid("log term", logTerm)
	}
	return nil
}

// Peer is how a Raft server reaches another; *labrpc.ClientEnd is one, a net/rpc client
// (TCPPeer) another. Call sends an RPC and reports false if no reply arrived; it must return
// within a bounded time. A Peer that also has a method
// CallContext(ctx context.Context, svcMeth string, args, reply any) bool, returning false once
// ctx is done, lets Raft abandon calls: Kill then does not wait for them.
type Peer interface {
	Call(svcMeth string, args any, reply any) bool
}

// ApplyMsg is what Raft hands the service on the apply channel: either the next committed
// command (CommandValid) or a snapshot from the leader that replaces the service's state
// (SnapshotValid). Messages arrive in log order, each index exactly once.
type ApplyMsg struct {
	CommandValid bool
	Command      any
	CommandIndex int

	SnapshotValid bool
	Snapshot      []byte
	SnapshotTerm  int
	SnapshotIndex int
}

// Entry is one log entry. Command travels through encoding/gob, so its concrete type must be
// registered with gob.Register unless it is a basic type.
type Entry struct {
	Term    int
	Command any
}

// RequestVoteArgs is the RequestVote RPC request (Figure 2).
type RequestVoteArgs struct {
	Term         int
	CandidateID  int
	LastLogIndex int
	LastLogTerm  int
}

func (a *RequestVoteArgs) validate(peers, me int) error {
	return checkHeader(a.CandidateID, a.Term, a.LastLogIndex, a.LastLogTerm, peers, me)
}

// RequestVoteReply is the RequestVote RPC reply.
type RequestVoteReply struct {
	Term        int
	VoteGranted bool
}

// AppendEntriesArgs is the AppendEntries RPC request (Figure 2); with no entries it is a
// heartbeat.
type AppendEntriesArgs struct {
	Term         int
	LeaderID     int
	PrevLogIndex int
	PrevLogTerm  int
	Entries      []Entry
	LeaderCommit int
}

func (a *AppendEntriesArgs) validate(peers, me int) error {
	if err := checkHeader(a.LeaderID, a.Term, a.PrevLogIndex, a.PrevLogTerm, peers, me); err != nil {
		return err
	}
	if a.LeaderCommit < 0 {
		return invalid("leader commit", a.LeaderCommit)
	}
	last := a.PrevLogTerm
	for _, e := range a.Entries {
		if e.Term < last || e.Term > a.Term {
			return invalid("entry term", e.Term)
		}
		last = e.Term
	}
	return nil
}

// AppendEntriesReply is the AppendEntries RPC reply. On a failed consistency check the follower
// adds a hint so the leader skips a whole term per round trip instead of one entry:
// ConflictTerm is the follower's term at PrevLogIndex (0 if its log is too short) and
// ConflictIndex the first index it holds with that term (or its log length + 1).
type AppendEntriesReply struct {
	Term          int
	Success       bool
	ConflictTerm  int
	ConflictIndex int
}

// InstallSnapshotArgs is the InstallSnapshot RPC request (Figure 13), sent whole rather than in
// chunks: snapshots here are small enough for one message.
type InstallSnapshotArgs struct {
	Term              int
	LeaderID          int
	LastIncludedIndex int
	LastIncludedTerm  int
	Data              []byte
}

func (a *InstallSnapshotArgs) validate(peers, me int) error {
	return checkHeader(a.LeaderID, a.Term, a.LastIncludedIndex, a.LastIncludedTerm, peers, me)
}

// InstallSnapshotReply is the InstallSnapshot RPC reply.
type InstallSnapshotReply struct {
	Term int
}

// RPC method names, as labrpc.MakeService and the TCP transport register them.
const (
	methodRequestVote     = "Raft.RequestVote"
	methodAppendEntries   = "Raft.AppendEntries"
	methodInstallSnapshot = "Raft.InstallSnapshot"
)
