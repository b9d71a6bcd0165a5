package raft

import (
	"errors"
	"fmt"
	"slices"
)

// ErrBadUpdate reports an Update that does not fit the stored log (entries that would leave a
// gap, or replace entries inside the snapshot). Raft never makes one.
var ErrBadUpdate = errors.New("raft: update does not fit the stored log")

// Storage is where a Raft server keeps what it must not forget across a crash: its current term
// and vote, its log and its latest snapshot (Figure 2's persistent state). Raft loads it once at
// start, then hands it each change as an Update and waits for Store to return before any message
// or reply that reflects the change leaves, and before it counts its own copy of new entries.
//
// As hashicorp/raft's LogStore and StableStore, it takes changes rather than the whole state, so
// new entries are appended, and it reports failures. On the first failed Store Raft stops (its
// Err says why): a server that cannot persist must not vote, lead or acknowledge anything.
//
// MemoryPersister (the in-memory twin, for tests) and FilePersister implement both Storage and
// Persister. A Persister that is not a Storage is adapted: each change is applied to a copy of
// the state in memory and the whole state is passed to its Save.
type Storage interface {
	// Load returns the saved state, empty if nothing was ever saved.
	Load() (Saved, error)
	// Store makes u durable: once it returns nil, u survives a crash. A crash during Store leaves
	// the state before u or the state after it. Store may keep Snapshot.Data and the entries'
	// commands (Raft never modifies them) but not the Entries slice itself.
	Store(u Update) error
}

// Update is one change to a server's durable state.
type Update struct {
	Term     int // the current term
	VotedFor int // the server voted for in Term, -1 for none

	// Snapshot, if set, replaces the snapshot: the log through Snapshot.Index is discarded and
	// the log after it becomes exactly Entries (From is then Snapshot.Index+1).
	Snapshot *Snapshot

	// From, if positive, is the index of Entries[0]: the stored entries from index From on are
	// dropped and Entries take their place. It is at most one past the last stored entry. Zero
	// leaves the log as it is (Entries is then empty).
	From    int
	Entries []Entry
}

// Snapshot is the service's snapshot of every command through Index, whose entry had Term.
type Snapshot struct {
	Index int
	Term  int
	Data  []byte
}

// Saved is the durable state Load returns.
type Saved struct {
	Term     int
	VotedFor int      // -1 for none
	Snapshot Snapshot // Index 0 if there is none
	Entries  []Entry  // the log after the snapshot: Entries[0] has index Snapshot.Index+1
}

// lastIndex returns the index of the last entry of s.
func (s *Saved) lastIndex() int { return s.Snapshot.Index + len(s.Entries) }

// image is a durable state held in memory, with the length of its encoding (encodeState) kept
// current so that RaftStateSize costs nothing. MemoryPersister, FilePersister and the adapter
// over a foreign Persister keep one.
type image struct {
	saved bool // something was saved: until then encode returns nil
	st    Saved
	// raw, if set, is a state given whole through Persister.Save and not decoded yet: Persister
	// users may save bytes Raft never wrote. It is decoded (and checked) when first needed.
	raw     []byte
	sizes   []int // sizes[i] is the length of st.Entries[i]'s encoding
	body    int   // the sum of sizes
	scratch []int // apply's buffer for the sizes of new entries
}

// setRaw replaces the state by an encoded one and a snapshot, as Persister.Save does.
func (m *image) setRaw(state, snapshot []byte) {
	if state == nil {
		state = []byte{} // still raw: ReadRaftState gives back nothing, not an empty state's encoding
	}
	*m = image{saved: true, raw: state, st: Saved{VotedFor: none, Snapshot: Snapshot{Data: snapshot}}}
}

// decode turns a raw state into the structured one, if need be.
func (m *image) decode() error {
	if m.raw == nil {
		return nil
	}
	if len(m.raw) == 0 {
		m.raw = nil
		return nil
	}
	st, err := decodeState(m.raw)
	if err != nil {
		return err
	}
	st.Snapshot.Data = m.st.Snapshot.Data
	sizes, body, err := measure(st.Entries)
	if err != nil {
		return err
	}
	m.st, m.sizes, m.body, m.raw = st, sizes, body, nil
	return nil
}

func measure(es []Entry) (sizes []int, body int, err error) {
	sizes = make([]int, len(es))
	for i, e := range es {
		if sizes[i], err = entrySize(e); err != nil {
			return nil, 0, err
		}
		body += sizes[i]
	}
	return sizes, body, nil
}

// load returns a copy of the state, decoding a raw one.
func (m *image) load() (Saved, error) {
	if err := m.decode(); err != nil {
		return Saved{}, err
	}
	if !m.saved {
		return Saved{VotedFor: none}, nil
	}
	st := m.st
	st.Entries = nil
	if len(m.st.Entries) > 0 {
		st.Entries = slices.Clone(m.st.Entries)
	}
	return st, nil
}

// clone returns an independent copy.
func (m *image) clone() image {
	c := *m
	c.st.Entries = slices.Clone(m.st.Entries)
	c.sizes = slices.Clone(m.sizes)
	c.scratch = nil
	return c
}

// check reports whether u fits the current (decoded) state.
func (m *image) check(u *Update) error {
	switch {
	case u.Term < 0 || u.VotedFor < none:
		return fmt.Errorf("%w: term %d, vote %d", ErrBadUpdate, u.Term, u.VotedFor)
	case u.Snapshot != nil && (u.Snapshot.Index < 0 || u.Snapshot.Term < 0 || u.From != u.Snapshot.Index+1):
		return fmt.Errorf("%w: snapshot through %d with entries from %d", ErrBadUpdate, u.Snapshot.Index, u.From)
	case u.Snapshot == nil && u.From == 0 && len(u.Entries) > 0:
		return fmt.Errorf("%w: entries without a position", ErrBadUpdate)
	case u.Snapshot == nil && u.From != 0 && (u.From <= m.st.Snapshot.Index || u.From > m.st.lastIndex()+1):
		return fmt.Errorf("%w: entries from %d, the log holds (%d, %d]", ErrBadUpdate, u.From, m.st.Snapshot.Index, m.st.lastIndex())
	}
	return nil
}

// apply carries u out, given the sizes of u.Entries' encodings if the caller has them (nil
// otherwise). On an error the state is unchanged.
func (m *image) apply(u *Update, sizes []int) error {
	if err := m.decode(); err != nil {
		return err
	}
	if err := m.check(u); err != nil {
		return err
	}
	if sizes == nil {
		m.scratch = m.scratch[:0]
		for _, e := range u.Entries {
			n, err := entrySize(e)
			if err != nil {
				return err
			}
			m.scratch = append(m.scratch, n)
		}
		sizes = m.scratch
	}
	m.saved = true
	m.st.Term, m.st.VotedFor = u.Term, u.VotedFor
	keep := len(m.st.Entries)
	switch {
	case u.Snapshot != nil:
		m.st.Snapshot = *u.Snapshot
		keep = 0
	case u.From > 0:
		keep = u.From - m.st.Snapshot.Index - 1
	}
	for _, n := range m.sizes[keep:] {
		m.body -= n
	}
	clear(m.st.Entries[keep:]) // let the dropped commands be collected
	m.st.Entries = append(m.st.Entries[:keep], u.Entries...)
	m.sizes = append(m.sizes[:keep], sizes...)
	for _, n := range sizes {
		m.body += n
	}
	return nil
}

// encode returns the state's encoding (what ReadRaftState returns). It fails only if a stored
// command no longer encodes, which takes a service changing a command after passing it to Start.
func (m *image) encode() ([]byte, error) {
	switch {
	case !m.saved:
		return nil, nil
	case m.raw != nil:
		return clone(m.raw), nil
	}
	return encodeState(m.st)
}

// size returns len(encode()).
func (m *image) size() int {
	switch {
	case !m.saved:
		return 0
	case m.raw != nil:
		return len(m.raw)
	}
	return stateHeaderSize(&m.st, len(m.st.Entries)) + m.body
}

// persisterStorage is the Storage Raft uses over a Persister that is not one: it applies each
// Update to a copy of the state in memory and passes the whole state to Save. A Persister cannot
// report failures, so Store fails only on an Update that does not fit.
type persisterStorage struct {
	p   Persister
	img image
}

func (s *persisterStorage) Load() (Saved, error) {
	s.img.setRaw(clone(s.p.ReadRaftState()), s.p.ReadSnapshot())
	return s.img.load()
}

func (s *persisterStorage) Store(u Update) error {
	if err := s.img.apply(&u, nil); err != nil {
		return err
	}
	state, err := s.img.encode()
	if err != nil {
		return err
	}
	s.p.Save(state, s.img.st.Snapshot.Data)
	return nil
}

// storageOf returns the Storage Raft uses for p: p itself if it is one, else an adapter.
func storageOf(p Persister) Storage {
	if s, ok := p.(Storage); ok {
		return s
	}
	return &persisterStorage{p: p}
}
