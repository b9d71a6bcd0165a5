package durable

import (
	"io/fs"
	"syscall"
)

// Sync forces the file's data, and the metadata needed to read it back (its size), to stable
// storage. On Linux that is fdatasync, as Redis uses for its append-only file: it skips the
// journal commit that an fsync of the modification time alone would cost.
func (f osFile) Sync() error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
		}
		return nil
	}
}
