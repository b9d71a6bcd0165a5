package filestore

import (
	"fmt"
	"runtime"
	"time"

	"ds440/internal/durable"
	"ds440/kvserver/internal/keyspace"
)

// defaultCompactSize is the log size from which a FileStore rewrites its log by default.
const defaultCompactSize = 64 << 20

// catchUpOnOwner is the most log a rewrite leaves for the store's owner to copy when it
// renames the new log into place; more is copied by the rewrite's goroutine first.
const catchUpOnOwner = 64 << 10

// A log rewrite runs beside the store, like Redis's BGREWRITEAOF, so the store's owner never
// waits for it. Its goroutine replays the log up to where it stood when the rewrite began into
// a memory store of its own and writes one record per live value to the new log (the
// snapshot); the records committed meanwhile are already in the old log, so the goroutine then
// copies them over as well (the rewrite buffer is the old log itself). When what is left to
// copy is small, the owner, at a Commit, copies the rest and renames the new log over the old
// one (durable.Log.Replace; under SyncAlways it fsyncs the new log first and the directory
// after, under SyncEverySecond the background fsync does both, so the owner waits for no
// disk). Until that rename the old log holds every committed mutation; after it the new one
// does; a crash in between leaves one or the other, whole.

// rewriteJob is a rewrite in progress. Its goroutine sends the result of each phase on done;
// busy says one is running, err is the result of the last one.
type rewriteJob struct {
	rw       *durable.Rewrite
	done     chan error
	busy     bool
	err      error
	replaced bool // the new log is in place; the goroutine closes the old one
	started  time.Time
}

// run starts phase on a goroutine of the job's own.
func (j *rewriteJob) run(phase func() error) {
	j.busy, j.err = true, nil
	go func() { j.done <- phase() }()
}

// wait waits for the running phase, if any, and returns the result of the last one.
func (j *rewriteJob) wait() error {
	if j.busy {
		j.err, j.busy = <-j.done, false
	}
	return j.err
}

// poll returns the result of the last phase if it has ended.
func (j *rewriteJob) poll() (error, bool) {
	if !j.busy {
		return j.err, true
	}
	select {
	case err := <-j.done:
		j.err, j.busy = err, false
		return err, true
	default:
		return nil, false
	}
}

// stepRewrite moves the log rewrite on, without waiting for it: it starts one when the log has
// grown enough, hands the next catch-up to the goroutine, or finishes the rewrite.
func (f *FileStore) stepRewrite() {
	j := f.rewrite
	if j == nil {
		size := f.log.Size()
		if f.compactAt >= 0 && size >= f.compactAt && size >= 2*f.compactBase {
			if err := f.startRewrite(); err != nil {
				f.rewriteFailed(err)
			}
		}
		return
	}
	err, ended := j.poll()
	if !ended {
		return
	}
	if j.replaced { // the old file is closed: the rewrite is over
		f.rewrite = nil
		if err != nil {
			f.logger.Warn("filestore: closing the replaced log failed", "path", f.path, "err", err)
		}
		return
	}
	if err != nil {
		f.rewriteFailed(err)
		return
	}
	if to := f.log.Size(); to-j.rw.Copied() > catchUpOnOwner {
		j.run(func() error { return j.rw.CatchUp(to) })
		return
	}
	if err := f.finishRewrite(); err != nil {
		f.rewriteFailed(err)
	}
}

// startRewrite begins a rewrite and starts its snapshot.
func (f *FileStore) startRewrite() error {
	rw, err := f.log.BeginRewrite()
	if err != nil {
		return err
	}
	j := &rewriteJob{rw: rw, done: make(chan error, 1), started: time.Now()}
	j.run(func() error { return writeSnapshot(rw) })
	f.rewrite = j
	return nil
}

// finishRewrite renames the new log into place, and leaves the old file to be closed on the
// job's goroutine (closing it frees its blocks, which takes long for a big log).
func (f *FileStore) finishRewrite() error {
	j, old := f.rewrite, f.log.Size()
	start := time.Now()
	if err := f.log.Replace(j.rw); err != nil {
		f.rewrite = nil
		return err
	}
	f.compactBase = f.log.Size()
	// owner_pause is the only time the rewrite held up the store's owner (the server's loop).
	f.logger.Info("filestore: rewrote the log", "path", f.path, "old_bytes", old, "new_bytes", f.log.Size(),
		"took", time.Since(j.started), "owner_pause", time.Since(start))
	j.replaced = true
	j.run(j.rw.Release)
	return nil
}

// rewriteFailed ends a failed rewrite. It is not a failure of the store: the old log is intact
// and still appended to, and the next attempt waits until the log has doubled again.
func (f *FileStore) rewriteFailed(err error) {
	f.endRewrite()
	f.compactBase = f.log.Size()
	f.logger.Warn("filestore: log rewrite failed; the log keeps growing", "path", f.path, "err", err)
}

// endRewrite waits for the rewrite's goroutine, if any, and ends the rewrite: one that has
// not replaced the log yet is aborted (its file removed), the old log kept.
func (f *FileStore) endRewrite() {
	if j := f.rewrite; j != nil {
		j.wait()
		if !j.replaced {
			j.rw.Abort()
		}
		f.rewrite = nil
	}
}

// Compact rewrites the log now to hold one record per value the store holds, so that a log of
// many overwritten and deleted values shrinks to the size of the data and replays as fast.
// It commits what awaits a Commit first, and blocks until the new log is in place; the store
// does the same by itself, without blocking, when the log has reached
// Options.CompactSize and doubled since the last rewrite. A crash at any point leaves
// one complete log.
func (f *FileStore) Compact() error {
	if f.closed {
		return ErrClosed
	}
	if err := f.Commit(); err != nil {
		return err
	}
	if f.rewrite == nil {
		if err := f.startRewrite(); err != nil {
			return fmt.Errorf("filestore: rewrite log: %w", err)
		}
	}
	if err := f.rewrite.wait(); err != nil || f.rewrite.replaced {
		f.endRewrite() // a failure, or the end of an earlier rewrite: start afresh
		if err != nil {
			return fmt.Errorf("filestore: rewrite log: %w", err)
		}
		return f.Compact()
	}
	if err := f.finishRewrite(); err != nil {
		return fmt.Errorf("filestore: rewrite log: %w", err)
	}
	f.endRewrite() // waits for the old file to be closed
	return nil
}

// writeSnapshot replays the log's records before the rewrite's base into a memory store of its
// own, writes the records that rebuild it, and fsyncs them. It runs beside the store's owner
// and shares nothing with it but the old log file, which it only reads below the base.
func writeSnapshot(rw *durable.Rewrite) error {
	var p pacer
	records := func(yield func([]byte, error) bool) {
		for rec, err := range rw.Records() {
			p.tick()
			if !yield(rec, err) {
				return
			}
		}
	}
	idx, err := keyspace.Replay(records)
	if err != nil {
		return err
	}
	var buf []byte
	var recs []keyspace.Record // reused: one key's records at a time
	var werr error
	idx.ForEach(func(key string, e *keyspace.Entry) {
		p.tick()
		recs = appendLiveRecords(recs[:0], key, e)
		for _, r := range recs {
			if werr != nil {
				return
			}
			buf = r.AppendPayload(buf[:0])
			werr = rw.Append(buf)
		}
	})
	if werr != nil {
		return werr
	}
	return rw.CatchUp(rw.Base())
}

// appendLiveRecords appends to out the records that rebuild key's entry e (none if e is nil):
// one per value of a list, field of a hash or member of a set, and the key's expiry.
func appendLiveRecords(out []keyspace.Record, key string, e *keyspace.Entry) []keyspace.Record {
	if e == nil {
		return out
	}
	switch e.Kind {
	case keyspace.KindString:
		out = append(out, keyspace.Record{Op: keyspace.OpSet, Key: key, A: e.Str()})
	case keyspace.KindList:
		for i := range e.Len() {
			out = append(out, keyspace.Record{Op: keyspace.OpPut, Key: key, A: e.At(i)})
		}
	case keyspace.KindHash:
		for field, v := range e.Hash {
			out = append(out, keyspace.Record{Op: keyspace.OpHSet, Key: key, A: []byte(field), B: v})
		}
	case keyspace.KindSet:
		for m := range e.Set {
			out = append(out, keyspace.Record{Op: keyspace.OpSAdd, Key: key, A: []byte(m)})
		}
	case keyspace.KindZSet:
		for _, it := range e.ZSet.Items() {
			out = append(out, keyspace.Record{Op: keyspace.OpZAdd, Key: key, A: []byte(it.Member), B: keyspace.Float64Bytes(it.Score)})
		}
	}
	if e.ExpireAt != 0 {
		out = append(out, keyspace.Record{Op: keyspace.OpExpireAt, Key: key, A: keyspace.Int64Bytes(e.ExpireAt)})
	}
	return out
}

// pacer makes a long CPU-bound loop give its processor up every yieldAfter. The rewrite's
// replay runs beside the server's loop, and on a machine with few cores it and the garbage
// collector can hold every processor: the loop, woken by a request, would then wait for the
// runtime to preempt one of them (up to 10 ms). Yielding often lets it in within a fraction
// of a millisecond.
type pacer struct {
	n    int
	last time.Time
}

const yieldAfter = 500 * time.Microsecond

func (p *pacer) tick() {
	p.n++
	if p.n%64 != 0 {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= yieldAfter {
		runtime.Gosched()
		p.last = now
	}
}
