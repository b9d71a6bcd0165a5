package filestore

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"ds440/internal/durable"
	"ds440/kvserver/internal/keyspace"
)

// SyncPolicy says when a FileStore forces its log to stable storage.
type SyncPolicy int

const (
	// SyncAlways fsyncs in every Commit, before the mutations it covers are answered, so a
	// mutation that a client has seen answered survives a crash of the machine, not only of
	// the process.
	SyncAlways SyncPolicy = iota
	// SyncEverySecond writes every Commit to the operating system at once but fsyncs in the
	// background once a second: a process crash loses nothing, a power cut up to a second.
	SyncEverySecond
)

// String returns the policy's name as ParseSyncPolicy accepts it.
func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncEverySecond:
		return "everysec"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// ParseSyncPolicy parses "always" or "everysec", the names Redis gives its appendfsync settings.
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	switch s {
	case "always":
		return SyncAlways, nil
	case "everysec":
		return SyncEverySecond, nil
	}
	return 0, fmt.Errorf("filestore: unknown sync policy %q (want always or everysec)", s)
}

// Errors of a FileStore.
var (
	ErrNotLog    = durable.ErrNotLog // the file does not start with a kvserver log's header
	ErrLogLocked = durable.ErrLocked // another process has the log open
	ErrClosed    = errors.New("filestore: store closed")
	ErrTooLarge  = durable.ErrTooLarge // a mutation larger than a log record may be
	// ErrSyncFailed is wrapped by the Commit that follows a failed background fsync of
	// SyncEverySecond: mutations committed before it may not survive a power cut.
	ErrSyncFailed = durable.ErrBackgroundSync
)

// Options holds the optional settings of a FileStore. The zero value is ready to use.
type Options struct {
	// Logger receives what replay found (at Info, or Warn when a torn tail was cut), log
	// rewrites, and failed Commits (at Error, besides the error they return); nil discards
	// them.
	Logger *slog.Logger
	// SyncInterval is how often SyncEverySecond fsyncs; zero means one second.
	SyncInterval time.Duration
	// CompactSize is the log size from which the log is rewritten to hold only the current
	// values once it has also doubled since the last rewrite; zero means 64 MiB, a negative
	// value never. See FileStore.Compact.
	CompactSize int64
}

// Recovery tells what opening a FileStore found in its log: the Records replayed, the Size
// kept (header included), and, if the log ended in a torn write, the bytes Cut off, the
// Reason (ErrTornRecord, ErrChecksum or ErrBadRecord) and the TornPath of the file beside the
// log that keeps them.
type Recovery = durable.Recovery

// FileStore is a key-value store kept in memory and made durable by an append-only log.
//
// Every mutation (Put, Prepend, Delete, Update, Clear) is applied in memory at once, so reads
// see it, and its record is appended to the log by the next Commit, with one write and, under
// SyncAlways, one fsync for all the mutations since the previous Commit (group commit). A
// mutation is durable, and may be acknowledged, only once that Commit has returned nil: its
// owner commits before it answers anyone, as kvserver's server does once per round of
// requests. Close commits what is left.
//
// Errors are returned, never kept: a mutation that cannot be logged (the store is closed, or
// it is too large for a record) returns an error and changes nothing; a Commit that cannot
// write or fsync returns its error and undoes every mutation since the previous Commit, so
// no one reads a value that a restart would not find. The store stays usable and the next
// Commit tries again.
//
// Opening the store replays the log; a torn tail, as a crash in the middle of a write leaves,
// is cut off at the last intact record (its bytes kept beside the log), while a bad record
// with intact ones after it makes opening fail with a *DamageError, the file untouched (see
// Check and Repair). The log is rewritten, beside the running store, when it has grown
// past Options.CompactSize (see Compact).
//
// A FileStore is used from one goroutine; only its background fsync and log rewrite, which
// touch nothing but files and memory of their own, run beside it. Package kvserver serves it
// through its KVStore interface (kvserver.OpenFileStore, kvserver.NewFileStore).
type FileStore struct {
	path     string
	logger   *slog.Logger
	log      *durable.Log
	index    *keyspace.Store
	recovery Recovery
	payload  []byte // scratch for encoding a record
	// undo takes the index back over the mutations since the last successful Commit, which
	// a failed Commit undoes (see undo.go).
	undo undoLog

	// The log is rewritten when it reaches compactAt bytes (negative: never) and twice its
	// size after the previous rewrite, compactBase; see compact.go.
	compactAt   int64
	compactBase int64
	rewrite     *rewriteJob // the rewrite in progress; nil if none

	closed   bool
	closeErr error
}

// Open opens the log at path, creating it if needed, and replays it. It fails if the
// file cannot be opened or read, is not a kvserver log (ErrNotLog), is damaged before its end
// (a *DamageError, matching ErrLogDamaged; the file is left as it is), or is open in another
// process (ErrLogLocked).
func Open(path string, policy SyncPolicy, opts Options) (*FileStore, error) {
	return open(path, policy, opts, nil)
}

// open is Open on a file system of the caller's choice (nil for the real
// one); crash tests pass a durable.MemFS.
func open(path string, policy SyncPolicy, opts Options, fsys durable.FS) (*FileStore, error) {
	if policy != SyncAlways && policy != SyncEverySecond {
		return nil, fmt.Errorf("filestore: invalid sync policy %v", policy)
	}
	log, err := durable.Open(path, logOptions(fsys, policy, opts.SyncInterval))
	if err != nil {
		return nil, storeErr(err)
	}
	f := &FileStore{path: path, logger: opts.Logger, log: log, compactAt: opts.CompactSize}
	if f.logger == nil {
		f.logger = slog.New(slog.DiscardHandler)
	}
	if f.compactAt == 0 {
		f.compactAt = defaultCompactSize
	}
	if err := f.rebuild(); err != nil {
		log.Close()
		return nil, err
	}
	r := log.Recovery()
	f.recovery = r
	if r.Cut > 0 {
		f.logger.Warn("filestore: cut the torn tail of the log, keeping its bytes beside it", "path", path,
			"records", r.Records, "kept_bytes", r.Size, "cut_bytes", r.Cut, "reason", r.Reason, "torn_copy", r.TornPath)
	} else {
		f.logger.Info("filestore: replayed the log", "path", path, "records", r.Records, "bytes", r.Size)
	}
	f.compactBase = log.Size()
	return f, nil
}

// logOptions describes kvserver's log to internal/durable.
func logOptions(fsys durable.FS, policy SyncPolicy, interval time.Duration) durable.Options {
	o := durable.Options{Magic: logMagic, FS: fsys, Interval: interval, MaxRecord: maxRecordPayload, Check: checkPayload}
	if policy == SyncEverySecond {
		o.Sync = durable.SyncInterval
	}
	return o
}

// rebuild replaces the index with the replay of the committed log.
func (f *FileStore) rebuild() error {
	idx, err := keyspace.Replay(f.log.Records())
	if err != nil {
		return storeErr(err)
	}
	f.index = idx
	return nil
}

// Lookup returns key's entry, nil if it is missing; for kvserver's typed commands.
func (f *FileStore) Lookup(key string) *keyspace.Entry { return f.index.Lookup(key) }

// ForEach calls fn for every key. With Lookup and Mutate it gives kvserver's server the typed
// keyspace behind its Redis commands; the entry and record types are kvserver's own.
func (f *FileStore) ForEach(fn func(string, *keyspace.Entry)) { f.index.ForEach(fn) }

// Mutate applies r and queues its record for the next Commit; for kvserver's typed commands.
// Its error is that of Put.
func (f *FileStore) Mutate(r keyspace.Record) error { return f.logAndApply(r) }

// logAndApply queues r's record for the next Commit and applies r, or does neither and says why.
func (f *FileStore) logAndApply(r keyspace.Record) error {
	if f.closed {
		return ErrClosed
	}
	f.payload = r.AppendPayload(f.payload[:0])
	if err := f.log.Append(f.payload); err != nil {
		return fmt.Errorf("filestore: %v of a %d-byte key: %w", r.Op, len(r.Key), err)
	}
	f.undo.note(f.index, r)
	f.index.Apply(r)
	return nil
}

// Commit writes every mutation made since the previous Commit to the log with one write and,
// under SyncAlways, one fsync: group commit, so a server that calls it once per round of
// requests, before sending that round's replies, pays one fsync per round instead of one per
// mutation (kvserver's server does; see kvserver.Committer). When it returns nil those
// mutations are durable (under SyncEverySecond: written to the operating system) and may be
// acknowledged.
//
// If the log cannot be written or fsynced, Commit returns the error and rolls the store back
// to what the log holds, as if the mutations since the previous Commit had not been made:
// reads no longer show them, and a restart would not find them either. The rollback undoes
// those mutations one by one, last first, in memory: it takes as long as they took, whatever
// the size of the log, and cannot fail. The store stays usable; the next Commit tries the
// disk again.
//
// Under SyncEverySecond, a failed background fsync is reported by the next Commit, wrapped
// around ErrSyncFailed: mutations committed earlier may not survive a power cut. That
// Commit's own mutations were written and are kept.
func (f *FileStore) Commit() error {
	if f.closed {
		return ErrClosed
	}
	err := f.log.Commit()
	if err != nil && !errors.Is(err, durable.ErrBackgroundSync) {
		return f.rollBack(err)
	}
	f.undo.reset()
	f.stepRewrite()
	if err != nil {
		f.logger.Error("filestore: background fsync of the log failed; acknowledged writes may not survive a power cut", "path", f.path, "err", err)
		return storeErr(err)
	}
	return nil
}

// rollBack undoes the mutations since the last successful Commit after a failed one, and
// returns the Commit's error.
func (f *FileStore) rollBack(cause error) error {
	err := fmt.Errorf("filestore: commit log %s: %w", f.path, cause)
	f.undo.apply(f.index)
	f.logger.Error("filestore: the log could not be written; mutations since the last commit are rolled back", "path", f.path, "err", err)
	return err
}

// Put appends value to key's list of values. Like every mutation it is applied at once and
// durable once the next Commit returns nil; it fails, changing nothing, if the store is closed
// (ErrClosed) or the mutation is too large for one log record (ErrTooLarge).
func (f *FileStore) Put(key string, value []byte) error {
	return f.logAndApply(keyspace.Record{Op: keyspace.OpPut, Key: key, A: value})
}

// Prepend inserts value before key's first value. Its error is that of Put.
func (f *FileStore) Prepend(key string, value []byte) error {
	return f.logAndApply(keyspace.Record{Op: keyspace.OpPrepend, Key: key, A: value})
}

// Get returns key's values in insertion order, nil if none.
func (f *FileStore) Get(key string) [][]byte { return f.index.Get(key) }

// Range returns key's values start..stop inclusive, indexes as in Redis LRANGE.
func (f *FileStore) Range(key string, start, stop int) [][]byte {
	return f.index.Range(key, start, stop)
}

// Len returns the number of values of key.
func (f *FileStore) Len(key string) int { return f.index.Len(key) }

// Keys returns the number of keys holding at least one value.
func (f *FileStore) Keys() int { return f.index.Keys() }

// Delete removes key and all of its values; deleting a missing key logs nothing. Its error is
// that of Put.
func (f *FileStore) Delete(key string) error {
	if f.index.Lookup(key) == nil && !f.closed {
		return nil
	}
	return f.logAndApply(keyspace.Record{Op: keyspace.OpDelete, Key: key})
}

// Update replaces every value of key equal to oldValue by newValue; updating a missing key logs
// nothing. Its error is that of Put.
func (f *FileStore) Update(key string, oldValue, newValue []byte) error {
	if f.index.Len(key) == 0 && !f.closed {
		return nil
	}
	return f.logAndApply(keyspace.Record{Op: keyspace.OpUpdate, Key: key, A: oldValue, B: newValue})
}

// Clear removes every key. Its error is that of Put.
func (f *FileStore) Clear() error {
	if f.index.Keys() == 0 && !f.closed {
		return nil
	}
	return f.logAndApply(keyspace.Record{Op: keyspace.OpClear})
}

// Recovery reports what opening the store found in its log.
func (f *FileStore) Recovery() Recovery { return f.recovery }

// Close ends a log rewrite in progress (keeping the old log), commits what awaits a Commit,
// fsyncs the log and closes it. Mutations after Close fail with ErrClosed; reads still answer
// from memory. Close is idempotent and returns the same result every time.
func (f *FileStore) Close() error {
	if f.closed {
		return f.closeErr
	}
	f.endRewrite()
	f.closed = true
	f.undo.reset() // nothing is undone after Close; the memory is freed
	if err := f.log.Close(); err != nil {
		f.closeErr = storeErr(err)
	}
	return f.closeErr
}
