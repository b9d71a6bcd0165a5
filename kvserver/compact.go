package kvserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// defaultCompactSize is the log size from which a FileStore rewrites its log by default.
const defaultCompactSize = 64 << 20

// rewritePath is where a rewrite builds the new log before renaming it over the old one.
func (f *FileStore) rewritePath() string { return f.path + ".rewrite" }

// maybeCompact rewrites the log when it has grown past the threshold. A failed rewrite is not
// a failure of the store: the old log is intact and still appended to, and the next attempt
// waits until the log has doubled again.
func (f *FileStore) maybeCompact() {
	if f.compactAt < 0 || f.size < f.compactAt || f.size < 2*f.compactBase {
		return
	}
	if err := f.Compact(); err != nil {
		f.compactBase = f.size
		f.log.Warn("kvserver: log rewrite failed; the log keeps growing", "path", f.path, "err", err)
	}
}

// Compact rewrites the log to hold one Put per value the store holds now, so that a log of
// many overwritten and deleted values shrinks to the size of the data and replays as fast.
// The new log is written beside the old one, fsynced, and renamed over it, so a crash at any
// point leaves one complete log. The store does this by itself when the log has reached
// FileStoreOptions.CompactSize and doubled since the last rewrite; it blocks the store's owner
// for the time it takes to read the old log and write the new one.
//
// Live keys are found by reading the old log, where every key that holds a value was put, so
// the rewrite needs no list of keys and no copy of the data. Mutations awaiting Commit are
// written first.
func (f *FileStore) Compact() error {
	if f.err != nil {
		return f.err
	}
	if err := f.flush(); err != nil {
		return err
	}
	tmpPath := f.rewritePath()
	tmp, err := os.OpenFile(tmpPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("kvserver: rewrite log: %w", err)
	}
	unlock, err := lockFile(tmp) // locked before the rename, so the new log is never unlocked
	if err != nil {
		tmp.Close()
		os.Remove(tmpPath)
		return err
	}
	size, err := f.writeLive(tmp)
	tmpSync := f.syncerFor(tmp)
	if err == nil {
		err = tmpSync.Sync()
	}
	if err == nil {
		err = os.Rename(tmpPath, f.path)
	}
	if err != nil {
		unlock()
		tmp.Close()
		os.Remove(tmpPath)
		return fmt.Errorf("kvserver: rewrite log: %w", err)
	}
	if err := syncDir(filepath.Dir(f.path)); err != nil {
		// The rename is done; both logs hold the same state, so go on with the new one.
		f.log.Warn("kvserver: the log rewrite may not survive a power cut", "err", err)
	}

	f.stopSyncLoop()
	old := f.size
	f.unlock()
	f.file.Close()
	f.file, f.unlock, f.sync, f.size, f.compactBase = tmp, unlock, tmpSync, size, size
	if f.policy == SyncEverySecond {
		f.startSyncLoop()
	}
	f.log.Info("kvserver: rewrote the log", "path", f.path, "old_bytes", old, "new_bytes", size)
	return nil
}

// writeLive writes the log header and the records that rebuild what the store holds to dst, and returns
// the bytes written. The file offset of dst ends at its end, ready for appending.
func (f *FileStore) writeLive(dst *os.File) (int64, error) {
	w := bufio.NewWriterSize(dst, 256<<10)
	size := int64(len(logMagic))
	if _, err := w.WriteString(logMagic); err != nil {
		return 0, err
	}
	rr := recordReader{
		r:         bufio.NewReaderSize(io.NewSectionReader(f.file, int64(len(logMagic)), f.size-int64(len(logMagic))), 256<<10),
		remaining: f.size - int64(len(logMagic)),
	}
	written := make(map[string]bool)
	var buf []byte
	for {
		rec, _, err := rr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("reading the old log: %w", err)
		}
		if rec.op == logClear || written[rec.key] {
			continue
		}
		written[rec.key] = true
		for _, r := range liveRecords(rec.key, f.index.lookup(rec.key)) {
			buf = r.appendTo(buf[:0])
			if _, err := w.Write(buf); err != nil {
				return 0, err
			}
			size += int64(len(buf))
		}
	}
	return size, w.Flush()
}

// liveRecords returns the records that rebuild key's entry e (none if e is nil): one per
// value of a list, field of a hash or member of a set, and the key's expiry.
func liveRecords(key string, e *entry) []record {
	if e == nil {
		return nil
	}
	var out []record
	switch e.kind {
	case kindString:
		out = append(out, record{op: logSet, key: key, a: e.str()})
	case kindList:
		for i := range e.len() {
			out = append(out, record{op: logPut, key: key, a: e.at(i)})
		}
	case kindHash:
		for field, v := range e.hash {
			out = append(out, record{op: logHSet, key: key, a: []byte(field), b: v})
		}
	case kindSet:
		for m := range e.set {
			out = append(out, record{op: logSAdd, key: key, a: []byte(m)})
		}
	case kindZSet:
		for _, it := range e.zset.items() {
			out = append(out, record{op: logZAdd, key: key, a: []byte(it.member), b: float64Bytes(it.score)})
		}
	}
	if e.expireAt != 0 {
		out = append(out, record{op: logExpireAt, key: key, a: int64Bytes(e.expireAt)})
	}
	return out
}

func float64Bytes(f float64) []byte {
	return binary.LittleEndian.AppendUint64(nil, math.Float64bits(f))
}

func int64Bytes(n int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(n)) }
