package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrPersisterFailed reports that a FilePersister could not make a save durable; from then on
// it refuses further saves (fail-stop), because a Raft server that cannot persist must not keep
// answering.
var ErrPersisterFailed = errors.New("raft: persister failed")

// On disk a FilePersister keeps generations of two kinds of file:
//
//	state-<gen>.dat  magic | gen | snapGen | snapLen | snapCRC | stateLen | state | crc
//	snap-<gen>.dat   the raw snapshot bytes, checked against snapLen/snapCRC
//
// A save writes a new snapshot file only when the snapshot changed, then the state file that
// names it, each through a temp file, fsync and rename, and fsyncs the directory. The state
// file's rename is the commit point, so state and snapshot change together. The previous
// generation is kept so a torn or corrupt newest file falls back to the last good one.
const (
	fileMagic   = "DS440RF1"
	headerSize  = len(fileMagic) + 8 + 8 + 8 + 4 + 8
	statePrefix = "state-"
	snapPrefix  = "snap-"
	fileSuffix  = ".dat"
	tempSuffix  = ".tmp"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FilePersister is a durable Persister in a directory of its own. It is safe for concurrent use.
type FilePersister struct {
	dir string

	mu       sync.Mutex
	gen      uint64 // newest generation number used (valid or not)
	state    []byte
	snapshot []byte
	snapGen  uint64 // generation of the snapshot file holding snapshot, 0 if none
	kept     []uint64
	err      error
	img      image // the state as Raft's Storage sees it

	// fault, if set, is called before each step of a save; an error aborts the save there, as a
	// crash would. Tests use it to crash at every point.
	fault func(step string) error
}

// NewFilePersister opens (creating if needed) a persister in dir and loads the newest intact
// generation. Leftover temp files and torn or corrupt generations are ignored.
func NewFilePersister(dir string) (*FilePersister, error) {
	if dir == "" {
		return nil, errors.New("raft: FilePersister needs a directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("raft: persister dir: %w", err)
	}
	p := &FilePersister{dir: dir}
	if err := p.load(); err != nil {
		return nil, err
	}
	return p, nil
}

// load finds the newest state file that verifies, with its snapshot.
func (p *FilePersister) load() error {
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return fmt.Errorf("raft: persister dir: %w", err)
	}
	var gens []uint64
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, tempSuffix) {
			_ = os.Remove(filepath.Join(p.dir, name)) // a save that never reached its rename
			continue
		}
		for _, prefix := range []string{statePrefix, snapPrefix} {
			if g, ok := parseGen(name, prefix); ok {
				p.gen = max(p.gen, g)
				if prefix == statePrefix {
					gens = append(gens, g)
				}
			}
		}
	}
	slices.Sort(gens)
	slices.Reverse(gens)
	for _, g := range gens {
		state, snap, snapGen, err := p.readGen(g)
		if err != nil {
			continue // torn or corrupt: fall back to the generation before
		}
		p.state, p.snapshot, p.snapGen = state, snap, snapGen
		p.kept = []uint64{g}
		return nil
	}
	return nil
}

func parseGen(name, prefix string) (uint64, bool) {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, fileSuffix) {
		return 0, false
	}
	g, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, prefix), fileSuffix), 10, 64)
	return g, err == nil && g > 0
}

func (p *FilePersister) path(prefix string, gen uint64) string {
	return filepath.Join(p.dir, prefix+strconv.FormatUint(gen, 10)+fileSuffix)
}

func (p *FilePersister) readGen(gen uint64) (state, snap []byte, snapGen uint64, err error) {
	b, err := os.ReadFile(p.path(statePrefix, gen))
	if err != nil {
		return nil, nil, 0, err
	}
	corrupt := fmt.Errorf("raft: state file %d is torn or corrupt", gen)
	if len(b) < headerSize+4 || string(b[:len(fileMagic)]) != fileMagic {
		return nil, nil, 0, corrupt
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, nil, 0, corrupt
	}
	h := body[len(fileMagic):]
	fileGen := binary.BigEndian.Uint64(h[0:])
	snapGen = binary.BigEndian.Uint64(h[8:])
	snapLen := binary.BigEndian.Uint64(h[16:])
	snapCRC := binary.BigEndian.Uint32(h[24:])
	stateLen := binary.BigEndian.Uint64(h[28:])
	if fileGen != gen || stateLen != uint64(len(body)-headerSize) {
		return nil, nil, 0, corrupt
	}
	state = body[headerSize:]
	if snapGen != 0 {
		snap, err = os.ReadFile(p.path(snapPrefix, snapGen))
		if err != nil || uint64(len(snap)) != snapLen || crc32.Checksum(snap, castagnoli) != snapCRC {
			return nil, nil, 0, corrupt
		}
	}
	return nonEmpty(state), nonEmpty(snap), snapGen, nil
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Save durably replaces the state and snapshot together. It copies raftstate, so the caller may
// reuse that buffer, and keeps snapshot, which the caller must not modify afterwards. If the
// disk fails, the persister keeps its last good contents and Err reports the failure.
func (p *FilePersister) Save(raftstate, snapshot []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return
	}
	if err := p.save(raftstate, snapshot); err != nil {
		p.err = fmt.Errorf("%w: %v", ErrPersisterFailed, err)
	}
}

// Load returns the saved state (Storage).
func (p *FilePersister) Load() (Saved, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.img.setRaw(clone(p.state), p.snapshot)
	if len(p.state) == 0 && len(p.snapshot) == 0 {
		p.img = image{}
	}
	return p.img.load()
}

// Store makes u durable (Storage); after a failure it refuses every later update.
func (p *FilePersister) Store(u Update) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if err := p.img.apply(&u, nil); err != nil {
		return err
	}
	state, err := p.img.encode()
	if err == nil {
		err = p.save(state, p.img.st.Snapshot.Data)
	}
	if err != nil {
		p.err = fmt.Errorf("%w: %v", ErrPersisterFailed, err)
	}
	return p.err
}

func (p *FilePersister) save(state, snap []byte) error {
	snapGen := p.snapGen
	snapChanged := !sameSlice(snap, p.snapshot)
	if snapChanged {
		snapGen = 0
		if len(snap) > 0 {
			p.gen++
			snapGen = p.gen
			if err := p.writeFile(p.path(snapPrefix, snapGen), snap); err != nil {
				return err
			}
		}
	}
	p.gen++
	gen := p.gen
	b := make([]byte, headerSize, headerSize+len(state)+4)
	copy(b, fileMagic)
	h := b[len(fileMagic):]
	binary.BigEndian.PutUint64(h[0:], gen)
	binary.BigEndian.PutUint64(h[8:], snapGen)
	binary.BigEndian.PutUint64(h[16:], uint64(len(snap)))
	binary.BigEndian.PutUint32(h[24:], crc32.Checksum(snap, castagnoli))
	binary.BigEndian.PutUint64(h[28:], uint64(len(state)))
	b = append(b, state...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	if err := p.writeFile(p.path(statePrefix, gen), b); err != nil {
		return err
	}
	if err := p.step("syncdir"); err != nil {
		return err
	}
	if err := syncDir(p.dir); err != nil {
		return err
	}
	// Keep the state from b, this save's own buffer: the caller may reuse state.
	p.state, p.snapshot, p.snapGen = nonEmpty(b[headerSize:headerSize+len(state):headerSize+len(state)]), nonEmpty(snap), snapGen
	p.kept = append(p.kept, gen)
	p.collect()
	return nil
}

// writeFile writes data to path through a temp file, fsync and rename.
func (p *FilePersister) writeFile(path string, data []byte) error {
	tmp := path + tempSuffix
	if err := p.step("create " + filepath.Base(path)); err != nil {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	half := len(data) / 2
	if _, err := f.Write(data[:half]); err != nil {
		f.Close()
		return err
	}
	if err := p.step("write " + filepath.Base(path)); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data[half:]); err != nil {
		f.Close()
		return err
	}
	if err := p.step("fsync " + filepath.Base(path)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := p.step("rename " + filepath.Base(path)); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (p *FilePersister) step(name string) error {
	if p.fault != nil {
		return p.fault(name)
	}
	return nil
}

// collect keeps the newest two state generations and the snapshots they name, removing the
// rest. Failing to remove is harmless: load skips what it does not need.
func (p *FilePersister) collect() {
	if len(p.kept) > 2 {
		p.kept = p.kept[len(p.kept)-2:]
	}
	keepState := map[uint64]bool{}
	keepSnap := map[uint64]bool{p.snapGen: true}
	for _, g := range p.kept {
		keepState[g] = true
		if _, _, sg, err := p.readHeader(g); err == nil {
			keepSnap[sg] = true
		}
	}
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if g, ok := parseGen(e.Name(), statePrefix); ok && !keepState[g] {
			_ = os.Remove(filepath.Join(p.dir, e.Name()))
		}
		if g, ok := parseGen(e.Name(), snapPrefix); ok && !keepSnap[g] {
			_ = os.Remove(filepath.Join(p.dir, e.Name()))
		}
	}
}

// readHeader reads just a state file's header, for garbage collection.
func (p *FilePersister) readHeader(gen uint64) (fileGen, snapLen, snapGen uint64, err error) {
	f, err := os.Open(p.path(statePrefix, gen))
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	h := make([]byte, headerSize)
	if _, err := f.ReadAt(h, 0); err != nil {
		return 0, 0, 0, err
	}
	h = h[len(fileMagic):]
	return binary.BigEndian.Uint64(h[0:]), binary.BigEndian.Uint64(h[16:]), binary.BigEndian.Uint64(h[8:]), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err
	}
	return nil
}

// sameSlice reports whether a and b are the same bytes in memory: Raft hands the same snapshot
// slice to every save until it takes a new one, so identity says "unchanged" without comparing.
func sameSlice(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
}

// Err returns the error that stopped the persister, or nil.
func (p *FilePersister) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Dir returns the persister's directory.
func (p *FilePersister) Dir() string { return p.dir }

// ReadRaftState returns the saved state. The slice is shared: do not modify it.
func (p *FilePersister) ReadRaftState() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// RaftStateSize returns the size of the saved state in bytes.
func (p *FilePersister) RaftStateSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.state)
}

// ReadSnapshot returns the saved snapshot. The slice is shared: do not modify it.
func (p *FilePersister) ReadSnapshot() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.snapshot
}

// SnapshotSize returns the size of the saved snapshot in bytes.
func (p *FilePersister) SnapshotSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.snapshot)
}
