package durable

import (
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
)

// Rewrite builds a replacement for a Log beside it (in path.rewrite), so that a log of many
// superseded records can shrink to one record per live item without stopping its owner:
//
//  1. The owner calls BeginRewrite; the rewrite's Base is the log's committed size then.
//  2. Another goroutine reads the records before Base (Records), writes the state they build
//     (Append), and copies the records committed since (CatchUp), as often as it likes;
//     meanwhile the owner keeps appending to and committing the log.
//  3. The owner calls Replace, which copies what is still missing and renames the new file
//     over the log (fsyncing it first under SyncAlways; under SyncInterval the background
//     fsync does it); or Abort. After Replace, Release closes the old file, on any goroutine
//     (it can be slow).
//
// So the owner pays only for the records committed since the last CatchUp, like Redis's
// rewrite buffer. A crash at any point leaves either the old log or the new one, complete:
// until the rename the old log holds every committed record. Only one goroutine may use a
// Rewrite at a time, and the owner must not call Replace or Abort (nor Close the log) while
// another goroutine still uses it.
type Rewrite struct {
	log    *Log
	src    File // the log's file when the rewrite began
	path   string
	file   File
	size   int64 // bytes written to file
	buf    []byte
	base   int64
	copied int64 // the log is copied up to here
	done   bool
	synced bool // nothing written since the last fsync
	old    File // the file Replace took out of service, until Release
	// oldSync is the old file's background fsync (SyncInterval), which Replace told to end
	// without waiting for it; Release waits.
	oldSync *syncLoop
}

// BeginRewrite creates path.rewrite and returns the rewrite that will fill it.
func (l *Log) BeginRewrite() (*Rewrite, error) {
	if l.closed {
		return nil, ErrClosed
	}
	path := l.rewritePath()
	f, err := l.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("durable: begin rewrite: %w", err)
	}
	if err := f.Lock(); err != nil { // locked before the rename, so the new log is never unlocked
		f.Close()
		l.fs.Remove(path)
		return nil, err
	}
	return &Rewrite{log: l, src: l.file, path: path, file: f, buf: []byte(l.opts.Magic), base: l.size, copied: l.size}, nil
}

// Base returns the log's committed size when the rewrite began.
func (rw *Rewrite) Base() int64 { return rw.base }

// Copied returns the offset up to which the log's records are in the rewrite: Base until the
// first CatchUp.
func (rw *Rewrite) Copied() int64 { return rw.copied }

// Records returns the log's records before Base, in order; see Log.Records.
func (rw *Rewrite) Records() iter.Seq2[[]byte, error] {
	return records(rw.src, int64(len(rw.log.opts.Magic)), rw.base, rw.log.opts)
}

// Append adds a record to the new log. It must come before the first CatchUp.
func (rw *Rewrite) Append(payload []byte) error {
	if rw.done || rw.copied != rw.base {
		return errors.New("durable: rewrite append after catch-up or end")
	}
	if len(payload) > rw.log.opts.MaxRecord {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(payload), rw.log.opts.MaxRecord)
	}
	rw.buf = AppendRecord(rw.buf, payload)
	if len(rw.buf) >= 256<<10 {
		return rw.flush()
	}
	return nil
}

// rewriteSyncEvery is how many bytes a rewrite writes between two fsyncs of its file, as
// Redis's aof-rewrite-incremental-fsync: a snapshot fsynced only at its end leaves the disk
// that much to flush at once, and the log's own fsyncs (under SyncAlways, one per Commit)
// queue behind it.
const rewriteSyncEvery = 4 << 20

// copyBuffer is the least buffer a catch-up copies the log through.
const copyBuffer = 256 << 10

func (rw *Rewrite) flush() error {
	if len(rw.buf) == 0 {
		return nil
	}
	rw.synced = false
	n, err := rw.file.WriteAt(rw.buf, rw.size)
	before := rw.size
	rw.size += int64(n)
	rw.buf = rw.buf[:0]
	if err != nil {
		return fmt.Errorf("durable: rewrite: %w", err)
	}
	if before/rewriteSyncEvery != rw.size/rewriteSyncEvery {
		if err := rw.file.Sync(); err != nil {
			return fmt.Errorf("durable: rewrite: fsync: %w", err)
		}
		rw.synced = true
	}
	return nil
}

// CatchUp copies the log's committed records from Copied up to the offset to (which the owner
// read from Log.Size) into the new log, and fsyncs it.
func (rw *Rewrite) CatchUp(to int64) error { return rw.catchUp(to, true) }

// catchUp is CatchUp, with the fsync only if sync is set.
func (rw *Rewrite) catchUp(to int64, sync bool) error {
	if rw.done {
		return errors.New("durable: rewrite already ended")
	}
	if err := rw.flush(); err != nil {
		return err
	}
	if to > rw.copied {
		rw.synced = false
		// The append buffer, empty after flush, carries the copy: a rewrite's catch-ups, one
		// after another while the log grows, allocate nothing.
		rw.buf = slices.Grow(rw.buf[:0], copyBuffer)
		if err := copyRange(rw.file, rw.size, rw.src, rw.copied, to, rw.buf[:cap(rw.buf)]); err != nil {
			return fmt.Errorf("durable: rewrite: %w", err)
		}
		rw.size += to - rw.copied
		rw.copied = to
	}
	if rw.synced || !sync {
		return nil
	}
	if err := rw.file.Sync(); err != nil {
		return fmt.Errorf("durable: rewrite: fsync: %w", err)
	}
	rw.synced = true
	return nil
}

// Abort ends the rewrite and removes its file; the log is as it was.
func (rw *Rewrite) Abort() error {
	if rw.done {
		return nil
	}
	rw.done = true
	return errors.Join(rw.file.Close(), rw.log.fs.Remove(rw.path))
}

// Replace copies into rw the records committed since its last CatchUp and renames it over the
// log, which from then on appends to it. Records appended and not yet committed stay pending
// and go to the new file. If Replace fails before the rename, the rewrite is aborted and the
// log is as it was.
//
// Under SyncAlways, Replace fsyncs the new file before the rename and the directory after it,
// so what was committed is durable throughout; if only the directory fsync fails, the new
// file is the log and the next Commit retries that fsync before writing anything. Under
// SyncInterval, whose commits are durable only once the background fsync has run, Replace
// waits for no fsync: the new log's background fsync makes the file and the rename durable
// at once, beside the owner, and the old log's, if one is under way, ends on its own (Release
// waits for it). A failure of those fsyncs is reported as any background fsync failure is.
func (l *Log) Replace(rw *Rewrite) error {
	if l.closed {
		return ErrClosed
	}
	if rw.log != l || rw.done || rw.src != l.file {
		return errors.New("durable: replace with a rewrite of another log or one already ended")
	}
	always := l.opts.Sync == SyncAlways
	if err := rw.catchUp(l.size, always); err != nil {
		return errors.Join(err, rw.Abort())
	}
	var renamed bool
	var derr error
	if always {
		renamed, derr = installFile(l.fs, rw.path, l.path)
	} else if derr = l.fs.Rename(rw.path, l.path); derr == nil {
		renamed = true
	}
	if !renamed {
		return errors.Join(fmt.Errorf("durable: rewrite: %w", derr), rw.Abort())
	}
	rw.done = true
	old := l.file
	l.file, l.size, l.dirtyTail = rw.file, rw.size, false
	l.needDirSync = always && derr != nil // retried by the next Commit, before it writes
	if l.bg != nil {
		l.bg.quitSoon()
		rw.oldSync = l.bg
		file, dir := l.file, filepath.Dir(l.path)
		l.bg = startSyncLoop(l.file, l.opts.Interval, func() error {
			if err := file.Sync(); err != nil {
				return fmt.Errorf("durable: fsync the rewritten log: %w", err)
			}
			if err := l.fs.SyncDir(dir); err != nil {
				return fmt.Errorf("durable: sync log directory: %w", err)
			}
			return nil
		})
	}
	rw.old = old
	l.replaced = rw
	return nil
}

// Release closes the log file that Replace took out of service. The file system frees the old
// log's blocks then, which takes time in proportion to its size, so Release may be called on
// any goroutine, once Replace has returned; the old file is fsynced and no longer named, so a
// failure to close it loses nothing. It does nothing if Replace did not replace, or if it was
// called before; if it is never called, the log's Close closes the file of the last Replace.
func (rw *Rewrite) Release() error {
	if rw.oldSync != nil {
		rw.oldSync.wait() // the old file's last fsync; the new log holds what it held
		rw.oldSync = nil
	}
	old := rw.old
	rw.old = nil
	if old == nil {
		return nil
	}
	return old.Close()
}

// ReplaceAll replaces the log's committed records with payloads, atomically: a crash at any
// point leaves either the old records or the new ones, whole. It is Rewrite done on the
// owner's goroutine, for logs small enough to rewrite in place of a Commit (a raft log after a
// snapshot, say). Records appended and not yet committed stay pending.
func (l *Log) ReplaceAll(payloads iter.Seq[[]byte]) error {
	rw, err := l.BeginRewrite()
	if err != nil {
		return err
	}
	for p := range payloads {
		if err := rw.Append(p); err != nil {
			return errors.Join(err, rw.Abort())
		}
	}
	if err := l.Replace(rw); err != nil {
		return err
	}
	return rw.Release()
}
