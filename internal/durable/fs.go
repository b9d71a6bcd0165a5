package durable

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FS is the file system a Log lives in: the seam at which crash tests cut. OS is the real one;
// MemFS is an in-memory twin that can fail or "crash" at any write or fsync.
type FS interface {
	// OpenFile opens name with os.OpenFile's flags (O_RDONLY, O_RDWR, O_CREATE, O_EXCL, O_TRUNC).
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Rename(oldname, newname string) error
	Remove(name string) error
	// SyncDir makes the creations, renames and removals of names in dir durable.
	SyncDir(dir string) error
}

// File is an open file of an FS. Logs write with WriteAt at the offset they know to be the end
// of their intact records, so a failed write leaves nothing that the next one does not overwrite.
type File interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Size() (int64, error)
	// Lock takes an exclusive advisory lock for this process, failing with ErrLocked if another
	// holder has it; Close releases it.
	Lock() error
	Close() error
}

// Errors of files and logs.
var (
	ErrLocked = errors.New("durable: file is in use by another process")
	ErrNotLog = errors.New("durable: not a log of this kind (wrong header)")
	ErrClosed = errors.New("durable: log closed")
)

// OS is the operating system's file system.
var OS FS = osFS{}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }
func (osFS) Remove(name string) error             { return os.Remove(name) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) { // some platforms cannot sync a directory
		return err
	}
	return nil
}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (f osFile) Lock() error { return lockFile(f.File) }

// WriteFile replaces the file at path with data atomically: it writes a temporary file beside
// it, fsyncs it, renames it over path and fsyncs the directory, so that after a crash at any
// point path holds either its old content or data, whole. A nil fsys means OS.
func WriteFile(fsys FS, path string, data []byte) error {
	if fsys == nil {
		fsys = OS
	}
	tmp := path + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("durable: write %s: %w", path, err)
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	renamed := false
	if err == nil {
		renamed, err = installFile(fsys, tmp, path)
	}
	if err != nil {
		if !renamed {
			fsys.Remove(tmp)
		}
		return fmt.Errorf("durable: write %s: %w", path, err)
	}
	return nil
}

// installFile renames a complete, fsynced file over path and fsyncs the directory: the one
// place where a new file takes an old one's name. renamed reports whether the rename was done,
// so that a caller whose only failure was the directory fsync knows the new file is in place.
func installFile(fsys FS, tmp, path string) (renamed bool, err error) {
	if err := fsys.Rename(tmp, path); err != nil {
		return false, err
	}
	return true, fsys.SyncDir(filepath.Dir(path))
}

// ReadFile returns the content of the file at path. A nil fsys means OS.
func ReadFile(fsys FS, path string) ([]byte, error) {
	if fsys == nil {
		fsys = OS
	}
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}
