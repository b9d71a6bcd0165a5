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

// checkSender checks the id a message claims to come from.
func checkSender(id, peers, me int) error {
	if id < 0 || id >= peers || id == me {
		return invalid("sender", id)
	}
	return nil
}

// checkTerms checks a message's term and a term it mentions (which cannot be later).
func checkTerms(term, mentioned int) error {
	switch {
	case term < 0:
		return invalid("term", term)
	case mentioned < 0 || mentioned > term:
		return invalid("log term", mentioned)
	}
	return nil
}

// Peer is how a Raft server reaches another; *labrpc.ClientEnd is one, a net/rpc client
// (TCPPeer) another. Call sends an RPC and reports false if no reply arrived; it must return
// within a bounded time.
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
	if err := checkSender(a.CandidateID, peers, me); err != nil {
		return err
	}
	if a.LastLogIndex < 0 {
		return invalid("last log index", a.LastLogIndex)
	}
	return checkTerms(a.Term, a.LastLogTerm)
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
	if err := checkSender(a.LeaderID, peers, me); err != nil {
		return err
	}
	if a.PrevLogIndex < 0 || a.LeaderCommit < 0 {
		return invalid("index", min(a.PrevLogIndex, a.LeaderCommit))
	}
	if err := checkTerms(a.Term, a.PrevLogTerm); err != nil {
		return err
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
	if err := checkSender(a.LeaderID, peers, me); err != nil {
		return err
	}
	if a.LastIncludedIndex < 0 {
		return invalid("last included index", a.LastIncludedIndex)
	}
	return checkTerms(a.Term, a.LastIncludedTerm)
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
