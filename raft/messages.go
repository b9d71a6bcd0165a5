package raft

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
