package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"ds440/internal/durable"
)

// Errors of a FilePersister.
var (
	// ErrPersisterFailed wraps the error of a FilePersister write that did not complete: the
	// update may or may not be on disk, and Raft stops.
	ErrPersisterFailed = errors.New("raft: persister failed")
	// ErrPersisterClosed is returned by a FilePersister that was closed, or whose directory was
	// opened again by another FilePersister of this process, which then owns it.
	ErrPersisterClosed = errors.New("raft: persister closed")
)

// On disk a FilePersister is one append-only log (internal/durable: CRC-32C length-prefixed
// records, a torn tail cut and reported at open) in its directory, holding records of two kinds:
//
//	update: 1 | term | votedFor+1 | hasSnap | [snapIndex | snapTerm | len | snapshot] | from | count | count × entry
//	whole:  2 | len | state | snapshot   (a state given to Persister.Save, kept as it came)
//
// all integers uvarints, entries encoded as in the state (appendEntry). Replaying the records
// in order rebuilds the state. Store appends an update and fsyncs (one write, one fsync); an
// update with a snapshot, a Save, or a log grown well past its live state is written instead
// as the first record of a fresh log that atomically replaces the old one (durable's ReplaceAll).
const (
	logFile  = "raft.log"
	logMagic = "ds440rl\x01"

	recUpdate byte = 1
	recWhole  byte = 2

	// rewriteSlack is how many bytes of superseded records (entries cut off, old terms) the
	// log may carry beyond its live state before Store rewrites it.
	rewriteSlack = 1 << 20
)

// FilePersister is a durable Storage and Persister in a directory of its own. It keeps the state
// in memory too, so reads cost no I/O. It is safe for concurrent use.
type FilePersister struct {
	dir string

	stored // its lock also guards the fields below
	log    *durable.Log
	rec    []byte // encode buffer
	closed error  // why the persister no longer writes: ErrPersisterClosed, nil while open
}

// NewFilePersister opens (creating if needed) a persister in dir and loads the state saved
// there. A torn last write, as a crash leaves, is cut off and reported by Recovery; damage
// before intact records fails (durable.ErrDamaged), as does a log of another kind. If another
// FilePersister of this process has dir open, it is closed first: only the newest writes.
func NewFilePersister(dir string) (*FilePersister, error) {
	return openFilePersister(dir, nil)
}

// openFilePersister is NewFilePersister on the file system fsys (nil: the operating system's),
// for tests that crash the disk.
func openFilePersister(dir string, fsys durable.FS) (*FilePersister, error) {
	if dir == "" {
		return nil, errors.New("raft: FilePersister needs a directory")
	}
	if fsys == nil {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("raft: persister dir: %w", err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, fmt.Errorf("raft: persister dir: %w", err)
		}
		dir = abs
	}
	p := &FilePersister{dir: dir}
	if fsys == nil {
		register := handOver(dir)
		defer func() { register(p) }()
	}
	l, err := durable.Open(filepath.Join(dir, logFile), durable.Options{Magic: logMagic, Sync: durable.SyncAlways, FS: fsys})
	if err != nil {
		p.closed = ErrPersisterClosed
		return nil, fmt.Errorf("raft: persister: %w", err)
	}
	p.log = l
	if err := p.replay(); err != nil {
		p.closed = ErrPersisterClosed
		l.Close()
		return nil, err
	}
	return p, nil
}

// replay rebuilds the state from the log's records.
func (p *FilePersister) replay() error {
	n := 0
	for payload, err := range p.log.Records() {
		if err != nil {
			return fmt.Errorf("raft: persister: %w", err)
		}
		n++
		if err := p.replayRecord(payload); err != nil {
			return fmt.Errorf("%w: %s record %d: %v", ErrCorruptState, p.log.Path(), n, err)
		}
	}
	return nil
}

func (p *FilePersister) replayRecord(payload []byte) error {
	r := wireReader{b: payload, bad: ErrCorruptState}
	switch r.byte() {
	case recWhole:
		state := r.bytes(r.count())
		if r.err != nil {
			return r.err
		}
		p.img.setRaw(clone(state), clone(r.b))
		return nil
	case recUpdate:
		u, sizes, err := decodeUpdate(&r)
		if err != nil {
			return err
		}
		return p.img.apply(&u, sizes)
	}
	return errors.New("unknown record kind")
}

// appendUpdate appends u's record to dst, and the sizes of its entries' encodings to sizes.
func appendUpdate(dst []byte, sizes []int, u *Update) ([]byte, []int, error) {
	dst = append(dst, recUpdate)
	dst = binary.AppendUvarint(dst, uint64(u.Term))
	dst = binary.AppendUvarint(dst, uint64(u.VotedFor+1))
	if s := u.Snapshot; s != nil {
		dst = append(dst, 1)
		dst = binary.AppendUvarint(dst, uint64(s.Index))
		dst = binary.AppendUvarint(dst, uint64(s.Term))
		dst = binary.AppendUvarint(dst, uint64(len(s.Data)))
		dst = append(dst, s.Data...)
	} else {
		dst = append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(u.From))
	dst = binary.AppendUvarint(dst, uint64(len(u.Entries)))
	for _, e := range u.Entries {
		n := len(dst)
		var err error
		if dst, err = appendEntry(dst, e); err != nil {
			return dst, sizes, err
		}
		sizes = append(sizes, len(dst)-n)
	}
	return dst, sizes, nil
}

// decodeUpdate reads an update record after its kind byte, with its entries' sizes. The update's
// snapshot data is a copy; it never panics on bad input.
func decodeUpdate(r *wireReader) (Update, []int, error) {
	u := Update{Term: r.count(), VotedFor: r.count() - 1}
	if r.bool() {
		u.Snapshot = &Snapshot{Index: r.count(), Term: r.count()}
		u.Snapshot.Data = clone(r.bytes(r.count()))
	}
	u.From = r.count()
	count := r.count()
	if r.err != nil {
		return Update{}, nil, r.err
	}
	var sizes []int
	left := len(r.b)
	u.Entries = readEntries(r, nil, count, 0, u.Term, func() {
		sizes = append(sizes, left-len(r.b))
		left = len(r.b)
	})
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return Update{}, nil, r.err
	}
	return u, sizes, nil
}

// Store makes u durable (Storage): it appends one record and fsyncs. An update with a snapshot
// replaces the whole log atomically instead. An error leaves the state as it was before u,
// though u may have reached the disk: Raft stops at the first one.
func (p *FilePersister) Store(u Update) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed != nil {
		return p.closed
	}
	if err := p.img.decode(); err != nil {
		return err
	}
	if err := p.img.check(&u); err != nil {
		return err
	}
	rec, sizes, err := appendUpdate(p.rec[:0], nil, &u)
	if err != nil {
		return err
	}
	p.rec = rec
	if u.Snapshot != nil {
		err = p.replace(rec)
	} else if err = p.log.Append(rec); err == nil {
		err = p.log.Commit()
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPersisterFailed, err)
	}
	if err := p.img.apply(&u, sizes); err != nil {
		return err // checked above: cannot happen
	}
	if p.log.Size() > 2*int64(p.img.size()+len(p.img.st.Snapshot.Data))+rewriteSlack {
		return p.compact()
	}
	return nil
}

// compact rewrites the log as one record holding the whole state.
func (p *FilePersister) compact() error {
	st := p.img.st
	rec, _, err := appendUpdate(p.rec[:0], nil, &Update{
		Term: st.Term, VotedFor: st.VotedFor, Snapshot: &st.Snapshot,
		From: st.Snapshot.Index + 1, Entries: st.Entries,
	})
	if err == nil {
		err = p.replace(rec)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPersisterFailed, err)
	}
	return nil
}

// replace atomically replaces the log by one holding just rec.
func (p *FilePersister) replace(rec []byte) error {
	return p.log.ReplaceAll(func(yield func([]byte) bool) { yield(rec) })
}

// Save durably replaces the state and snapshot together (Persister), by replacing the log with
// one holding just them. It copies raftstate, and keeps snapshot, which the caller must not
// modify afterwards. If the disk fails, the persister keeps its previous contents; Save cannot
// say so: use Storage's Store to learn of failures.
func (p *FilePersister) Save(raftstate, snapshot []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed != nil {
		return
	}
	rec := append(p.rec[:0], recWhole)
	rec = binary.AppendUvarint(rec, uint64(len(raftstate)))
	rec = append(append(rec, raftstate...), snapshot...)
	p.rec = rec
	if p.replace(rec) == nil {
		p.img.setRaw(clone(raftstate), snapshot)
	}
}

// Close closes the persister's log; it is idempotent. Later writes fail with
// ErrPersisterClosed; the state can still be read.
func (p *FilePersister) Close() error { return closeAndForget(p) }

// closeLog closes the log.
func (p *FilePersister) closeLog() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed != nil {
		return nil
	}
	p.closed = ErrPersisterClosed
	return p.log.Close()
}

// FileRecovery tells what NewFilePersister found in the log.
type FileRecovery struct {
	Records int    // intact records replayed
	Cut     int64  // bytes of a torn last write cut off; 0 if the log was intact
	Reason  error  // why they were cut; nil if nothing was
	Kept    string // the file that keeps the bytes cut off; empty if none
}

// Recovery reports what opening the persister found, so that a program can log a torn tail.
func (p *FilePersister) Recovery() FileRecovery {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.log.Recovery()
	return FileRecovery{Records: r.Records, Cut: r.Cut, Reason: r.Reason, Kept: r.TornPath}
}

// Dir returns the persister's directory.
func (p *FilePersister) Dir() string { return p.dir }
