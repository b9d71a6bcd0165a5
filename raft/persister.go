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

// copyingPersister is a Persister whose Save keeps no reference to raftstate once it returns, so
// Raft may encode every save into one reused buffer instead of allocating the whole state each
// time. Any other Persister gets a fresh slice per save, which it may keep. Either way snapshot
// is never modified after it is passed.
type copyingPersister interface {
	Persister
	copiesState()
}

// MemoryPersister keeps the state in memory. Tests "crash" a server by taking a Copy, killing
// the Raft and starting a new one on the copy. It is safe for concurrent use.
type MemoryPersister struct {
	mu       sync.Mutex
	state    []byte
	snapshot []byte
	shared   bool // state's buffer is shared with a Copy: the next Save must not overwrite it
}

// NewMemoryPersister returns an empty MemoryPersister.
func NewMemoryPersister() *MemoryPersister { return &MemoryPersister{} }

// Copy returns an independent persister holding the same state and snapshot.
func (p *MemoryPersister) Copy() *MemoryPersister {
	p.mu.Lock()
	defer p.mu.Unlock()
	// The two share the state until either saves again, which then copies to a fresh buffer.
	p.shared = true
	return &MemoryPersister{state: p.state, snapshot: p.snapshot, shared: true}
}

// Save replaces the state and the snapshot together. It copies raftstate, so the caller may
// reuse that buffer, and keeps snapshot, which the caller must not modify afterwards (Raft
// never does): that spares copying an unchanged snapshot on every save.
func (p *MemoryPersister) Save(raftstate, snapshot []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shared || cap(p.state) < len(raftstate) {
		p.state, p.shared = make([]byte, 0, len(raftstate)+len(raftstate)/4), false
	}
	p.state = append(p.state[:0], raftstate...)
	p.snapshot = snapshot
}

func (p *MemoryPersister) copiesState() {}

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
