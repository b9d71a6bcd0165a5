package raft

import "sync"

// Persister holds Raft's durable state and the latest snapshot. Save writes both atomically:
// after a crash a reader sees either the old pair or the new one, never a mix.
type Persister interface {
	Save(raftstate, snapshot []byte)
	ReadRaftState() []byte
	RaftStateSize() int
	ReadSnapshot() []byte
	SnapshotSize() int
}

// MemoryPersister keeps the state in memory. Tests "crash" a server by taking a Copy, killing
// the Raft and starting a new one on the copy. It is safe for concurrent use.
type MemoryPersister struct {
	mu       sync.Mutex
	state    []byte
	snapshot []byte
}

// NewMemoryPersister returns an empty MemoryPersister.
func NewMemoryPersister() *MemoryPersister { return &MemoryPersister{} }

// Copy returns an independent persister holding the same state and snapshot.
func (p *MemoryPersister) Copy() *MemoryPersister {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Saved slices are never modified in place, so the copy may share them.
	return &MemoryPersister{state: p.state, snapshot: p.snapshot}
}

// Save replaces the state and the snapshot together. It takes ownership of both slices: the
// caller must not modify them afterwards (Raft never does), which spares copying an unchanged
// snapshot on every save.
func (p *MemoryPersister) Save(raftstate, snapshot []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = raftstate
	p.snapshot = snapshot
}

// ReadRaftState returns a copy of the saved state.
func (p *MemoryPersister) ReadRaftState() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return clone(p.state)
}

// RaftStateSize returns the size of the saved state in bytes.
func (p *MemoryPersister) RaftStateSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.state)
}

// ReadSnapshot returns a copy of the saved snapshot.
func (p *MemoryPersister) ReadSnapshot() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return clone(p.snapshot)
}

// SnapshotSize returns the size of the saved snapshot in bytes.
func (p *MemoryPersister) SnapshotSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.snapshot)
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
