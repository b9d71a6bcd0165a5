package raft

import "sync"

// Persister holds Raft's durable state and the latest snapshot. Save writes both atomically:
// after a crash a reader sees either the old pair or the new one, never a mix.
//
// It is the shape MIT 6.5840's tests expect. Save cannot report a failure and replaces the whole
// state; Raft uses the Storage interface instead when the Persister implements it, as
// MemoryPersister and FilePersister do.
type Persister interface {
	Save(raftstate, snapshot []byte)
	ReadRaftState() []byte
	RaftStateSize() int
	ReadSnapshot() []byte
	SnapshotSize() int
}

// MemoryPersister keeps the state in memory: the in-memory twin of FilePersister, as a Storage
// and as a Persister. Tests "crash" a server by taking a Copy, killing the Raft and starting a
// new one on the copy. It is safe for concurrent use.
type MemoryPersister struct {
	stored
}

// stored is a persister's state in memory under its lock, and the reads both persisters serve
// from it.
type stored struct {
	mu  sync.Mutex
	img image
}

// NewMemoryPersister returns an empty MemoryPersister.
func NewMemoryPersister() *MemoryPersister { return &MemoryPersister{} }

// Copy returns an independent persister holding the same state and snapshot.
func (p *MemoryPersister) Copy() *MemoryPersister {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &MemoryPersister{stored{img: p.img.clone()}}
}

// Store applies u (Storage). It keeps the entries' commands and the snapshot, not u.Entries.
func (p *MemoryPersister) Store(u Update) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.img.apply(&u, nil)
}

// Save replaces the state and the snapshot together. It copies raftstate, so the caller may
// reuse that buffer, and keeps snapshot, which the caller must not modify afterwards.
func (p *MemoryPersister) Save(raftstate, snapshot []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.img.setRaw(clone(raftstate), snapshot)
}

// Load returns the saved state (Storage). It fails if a state given to Save does not
// decode.
func (p *stored) Load() (Saved, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.img.load()
}

// ReadRaftState returns the saved state, encoded. It returns nil if nothing was saved, or if a
// stored command no longer encodes (a service changed a command after passing it to Start).
func (p *stored) ReadRaftState() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, _ := p.img.encode()
	return b
}

// RaftStateSize returns len(ReadRaftState()), without encoding anything.
func (p *stored) RaftStateSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.img.size()
}

// ReadSnapshot returns a copy of the saved snapshot.
func (p *stored) ReadSnapshot() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return clone(p.img.st.Snapshot.Data)
}

// SnapshotSize returns the size of the saved snapshot in bytes.
func (p *stored) SnapshotSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.img.st.Snapshot.Data)
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
