package durable

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// ErrCrashed is what every operation of a MemFS returns once it has crashed (see CrashAt).
var ErrCrashed = errors.New("durable: simulated crash")

// MemFS is an in-memory FS for tests. It remembers, besides what a file holds, what of it an
// fsync has made durable and which names a directory fsync has made durable, so Restart can
// show what a process killed at any point, or a machine that lost power, finds afterwards.
// Every mutating operation (write, fsync, truncate, create, rename, remove, directory fsync)
// is numbered from 1; FailAt and CrashAt make a chosen one fail, so a test can cut at every
// point in turn. It is safe for concurrent use.
type MemFS struct {
	mu      sync.Mutex
	names   map[string]*inode // what the namespace holds now
	durable map[string]*inode // what it holds after a power cut
	ops     int
	failAt  int
	failErr error
	crashAt int
	crashed bool
}

type inode struct {
	data   []byte // what reads see
	synced []byte // what survives a power cut
	locked *memFile
}

// NewMemFS returns an empty MemFS.
func NewMemFS() *MemFS {
	return &MemFS{names: make(map[string]*inode), durable: make(map[string]*inode)}
}

// Ops returns how many mutating operations have been performed (or attempted) so far.
func (m *MemFS) Ops() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ops
}

// FailAt makes operation n fail with err, once; a failing write writes half its bytes first,
// as a full disk does, and reports none, as os.File.WriteAt does. Zero cancels.
func (m *MemFS) FailAt(n int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failAt, m.failErr = n, err
}

// CrashAt makes the process "die" at operation n: a write there keeps half its bytes, and it
// and every later operation, reads included, fail with ErrCrashed. Zero cancels.
func (m *MemFS) CrashAt(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.crashAt = n
}

// Crashed reports whether the crash set by CrashAt has happened.
func (m *MemFS) Crashed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.crashed
}

// Restart returns the file system a new process finds after this one's crash: every byte
// written if only the process died, or, with powerLoss, only what fsync and directory fsync
// made durable. m itself is left as it is.
func (m *MemFS) Restart(powerLoss bool) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	src := m.names
	if powerLoss {
		src = m.durable
	}
	out := NewMemFS()
	copies := make(map[*inode]*inode)
	for name, ino := range src {
		c := copies[ino]
		if c == nil {
			d := ino.data
			if powerLoss {
				d = ino.synced
			}
			c = &inode{data: clone(d), synced: clone(d)}
			copies[ino] = c
		}
		out.names[name] = c
		out.durable[name] = c
	}
	return out
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// op numbers a mutating operation and says whether it fails, and how: half reports whether a
// write should keep half its bytes before failing.
func (m *MemFS) op() (err error, half bool) {
	if m.crashed {
		return ErrCrashed, false
	}
	m.ops++
	switch m.ops {
	case m.crashAt:
		m.crashed = true
		return ErrCrashed, true
	case m.failAt:
		m.failAt = 0
		return m.failErr, true
	}
	return nil, false
}

// OpenFile opens name; O_CREATE and O_TRUNC count as operations.
func (m *MemFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.crashed {
		return nil, ErrCrashed
	}
	ino := m.names[name]
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
		if err, _ := m.op(); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	switch {
	case ino != nil && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case ino == nil && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case ino == nil:
		ino = &inode{}
		m.names[name] = ino
	}
	writable := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if flag&os.O_TRUNC != 0 && writable {
		ino.data = nil
	}
	return &memFile{fs: m, ino: ino, name: name, writable: writable}, nil
}

// Rename moves oldname to newname, replacing it.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err, _ := m.op(); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	ino := m.names[oldname]
	if ino == nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	delete(m.names, oldname)
	m.names[newname] = ino
	return nil
}

// Remove removes name.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err, _ := m.op(); err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	if m.names[name] == nil {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.names, name)
	return nil
}

// SyncDir makes the names in dir durable as they are now.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err, _ := m.op(); err != nil {
		return &fs.PathError{Op: "sync", Path: dir, Err: err}
	}
	for name := range m.durable {
		if filepath.Dir(name) == dir && m.names[name] == nil {
			delete(m.durable, name)
		}
	}
	for name, ino := range m.names {
		if filepath.Dir(name) == dir {
			m.durable[name] = ino
		}
	}
	return nil
}

type memFile struct {
	fs       *MemFS
	ino      *inode
	name     string
	writable bool
	closed   bool
}

func (f *memFile) check(op string) error {
	if f.closed {
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	if f.fs.crashed {
		return &fs.PathError{Op: op, Path: f.name, Err: ErrCrashed}
	}
	return nil
}

func (f *memFile) ReadAt(b []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, fmt.Errorf("durable: negative offset")
	}
	if off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(b, f.ino.data[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(b []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if !f.writable {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
	}
	err, half := f.fs.op()
	n := len(b)
	if err != nil {
		if !half {
			return 0, &fs.PathError{Op: "write", Path: f.name, Err: err}
		}
		n = len(b) / 2
	}
	if end := off + int64(n); end > int64(len(f.ino.data)) {
		f.ino.data = append(f.ino.data, make([]byte, end-int64(len(f.ino.data)))...)
	}
	copy(f.ino.data[off:], b[:n])
	if err != nil {
		// Like os.File.WriteAt, which drops the count of a pwrite that ended in an error,
		// report none of the bytes written: a caller must not trust n after a failure.
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: err}
	}
	return n, nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("sync"); err != nil {
		return err
	}
	if err, _ := f.fs.op(); err != nil {
		return &fs.PathError{Op: "sync", Path: f.name, Err: err}
	}
	f.ino.synced = clone(f.ino.data)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate"); err != nil {
		return err
	}
	if err, _ := f.fs.op(); err != nil {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
	}
	if size < int64(len(f.ino.data)) {
		f.ino.data = f.ino.data[:size:size]
	} else {
		f.ino.data = append(f.ino.data, make([]byte, size-int64(len(f.ino.data)))...)
	}
	return nil
}

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("stat"); err != nil {
		return 0, err
	}
	return int64(len(f.ino.data)), nil
}

func (f *memFile) Lock() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("lock"); err != nil {
		return err
	}
	if f.ino.locked != nil && f.ino.locked != f {
		return fmt.Errorf("%w: %s", ErrLocked, f.name)
	}
	f.ino.locked = f
	return nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	if f.ino.locked == f {
		f.ino.locked = nil
	}
	return nil
}
