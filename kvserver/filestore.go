package kvserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// SyncPolicy says when a FileStore forces its log to stable storage.
type SyncPolicy int

const (
	// SyncAlways fsyncs every mutation before it is applied, or, under group commit (see
	// FileStore.Commit), before it is answered, so a mutation that a client has seen answered
	// survives a crash of the machine, not only of the process.
	SyncAlways SyncPolicy = iota
	// SyncEverySecond writes every mutation to the operating system at once but fsyncs in the
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
	return 0, fmt.Errorf("kvserver: unknown sync policy %q (want always or everysec)", s)
}

// Errors of a FileStore.
var (
	ErrNotLog      = errors.New("kvserver: not a kvserver log file")
	ErrLogLocked   = errors.New("kvserver: log file is in use by another process")
	ErrStoreClosed = errors.New("kvserver: store closed")
)

// FileStoreOptions holds the optional settings of a FileStore. The zero value is ready to use.
type FileStoreOptions struct {
	// Logger receives what replay found (at Info, or Warn when a damaged tail was cut) and
	// write failures (at Error); nil discards them.
	Logger *slog.Logger
	// SyncInterval is how often SyncEverySecond fsyncs; zero means one second.
	SyncInterval time.Duration
	// OnError, if set, is called once, on the goroutine using the store, when a write or
	// fsync fails and the store stops accepting mutations. A program that must not answer a
	// write it could not make durable exits here, as Redis does.
	OnError func(error)
	// CompactSize is the log size from which the log is rewritten to hold only the current
	// values once it has also doubled since the last rewrite; zero means 64 MiB, a negative
	// value never. See FileStore.Compact.
	CompactSize int64

	syncer func(*os.File) syncer // replaces the file's fsync in tests
}

// Recovery tells what opening a FileStore found in its log.
type Recovery struct {
	Records int   // records replayed
	Size    int64 // bytes of log kept, header included
	Cut     int64 // bytes cut off a torn tail; 0 if the log was intact
	Reason  error // why the tail was cut (ErrTornRecord, ErrChecksum, ErrBadRecord); nil if not
	// TornPath names the file that keeps the bytes cut off, beside the log; empty if none.
	TornPath string
}

// syncer forces written data to stable storage; *os.File is one.
type syncer interface{ Sync() error }

// FileStore is a KVStore kept in memory and made durable by an append-only log. Every mutation
// is appended to the log (and, with SyncAlways, fsynced) before it is applied, so the state in
// memory is always the replay of the log; once its owner calls Commit, mutations are instead
// logged once per group, before any of them is acknowledged. Opening the store replays the
// log; a torn tail, as a crash in the middle of a write leaves, is cut off at the last intact
// record (its bytes kept beside the log), while a bad record with intact ones after it makes
// opening fail with a *DamageError, the file untouched (see CheckLog and RepairLog).
//
// Like every KVStore it is used from one goroutine; only its background fsync, which touches
// nothing but the file, runs beside it. If a write or fsync fails the store keeps serving
// reads but ignores further mutations, because it could no longer promise they are durable;
// Err reports the failure.
type FileStore struct {
	path   string
	policy SyncPolicy
	log    *slog.Logger
	onErr  func(error)

	file      *os.File
	unlock    func() error
	sync      syncer
	syncerFor func(*os.File) syncer // the syncer of a log file; a test's fake in tests
	interval  time.Duration         // of the background fsync
	size      int64                 // bytes of intact log; every write appends here
	pending   []byte                // encoded records not yet written
	grouped   bool                  // Commit has been called: records wait in pending for the next one
	index     *memoryStore
	recovery  Recovery

	// The log is rewritten when it reaches compactAt bytes (negative: never) and twice its
	// size after the previous rewrite, compactBase; see Compact.
	compactAt   int64
	compactBase int64
	err         error // sticky: the failure that stopped mutations, or ErrStoreClosed
	closed      bool
	closeErr    error

	// The background fsync of SyncEverySecond. The store signals dirty after each write; the
	// syncer goroutine fsyncs on its tick only if signalled, and reports failures on syncErrs.
	dirty    chan struct{}
	syncErrs chan error
	stop     chan struct{}
	stopped  chan struct{}
}

// A FileStore offers the Redis list operations natively, so LPUSH and LRANGE stay O(1) and
// O(range) through it, and commits in groups when the server asks it to.
var (
	_ ListStore = (*FileStore)(nil)
	_ Committer = (*FileStore)(nil)
)

// NewFileStore opens the log at path, creating it if needed, replays it and returns the store
// (a *FileStore, to be closed with Close). A torn tail is cut off at the last intact record
// and kept beside the log; FileStore.Recovery reports what was cut. A log damaged before its
// end is not opened: the error is a *DamageError matching ErrLogDamaged.
func NewFileStore(path string, sync SyncPolicy) (KVStore, error) {
	f, err := OpenFileStore(path, sync, FileStoreOptions{})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// OpenFileStore is NewFileStore with options. It fails if the file cannot be opened or read,
// is not a kvserver log (ErrNotLog), is damaged before its end (a *DamageError, matching
// ErrLogDamaged; the file is left as it is), or is open in another process (ErrLogLocked).
func OpenFileStore(path string, policy SyncPolicy, opts FileStoreOptions) (*FileStore, error) {
	if policy != SyncAlways && policy != SyncEverySecond {
		return nil, fmt.Errorf("kvserver: invalid sync policy %v", policy)
	}
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("kvserver: open log: %w", err)
	}
	unlock, err := lockFile(file)
	if err != nil {
		file.Close()
		return nil, err
	}
	f := &FileStore{
		path:      path,
		policy:    policy,
		log:       opts.Logger,
		onErr:     opts.OnError,
		file:      file,
		unlock:    unlock,
		syncerFor: func(file *os.File) syncer { return file },
		interval:  opts.SyncInterval,
		compactAt: opts.CompactSize,
	}
	f.index = newMemoryStore()
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if opts.syncer != nil {
		f.syncerFor = opts.syncer
	}
	if f.interval <= 0 {
		f.interval = time.Second
	}
	if f.compactAt == 0 {
		f.compactAt = defaultCompactSize
	}
	f.sync = f.syncerFor(file)
	if err := f.open(); err != nil {
		unlock()
		file.Close()
		return nil, err
	}
	// A rewrite that a crash interrupted left its temporary file; holding the log's lock, we
	// know no other process is writing it.
	if err := os.Remove(f.rewritePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		f.log.Warn("kvserver: cannot remove an interrupted log rewrite", "path", f.rewritePath(), "err", err)
	}
	f.compactBase = f.size
	if policy == SyncEverySecond {
		f.dirty = make(chan struct{}, 1)
		f.syncErrs = make(chan error, 1)
		f.startSyncLoop()
	}
	return f, nil
}

// open checks the header, replays the log into the index, cuts a damaged tail and leaves the
// file positioned for appending.
func (f *FileStore) open() error {
	st, err := f.file.Stat()
	if err != nil {
		return fmt.Errorf("kvserver: stat log: %w", err)
	}
	size := st.Size()
	hdr := make([]byte, min(size, int64(len(logMagic))))
	if _, err := io.ReadFull(f.file, hdr); err != nil {
		return fmt.Errorf("kvserver: read log: %w", err)
	}
	if string(hdr) != logMagic[:len(hdr)] {
		return fmt.Errorf("%w: %s", ErrNotLog, f.path)
	}
	if size < int64(len(logMagic)) {
		// A new log, or one whose creation was cut short: write the header and make the
		// file's existence durable before anything is logged in it.
		if err := f.file.Truncate(0); err != nil {
			return fmt.Errorf("kvserver: reset log: %w", err)
		}
		if _, err := f.file.WriteAt([]byte(logMagic), 0); err != nil {
			return fmt.Errorf("kvserver: write log header: %w", err)
		}
		if err := f.sync.Sync(); err != nil {
			return fmt.Errorf("kvserver: sync log: %w", err)
		}
		if err := syncDir(filepath.Dir(f.path)); err != nil {
			return err
		}
		size = int64(len(logMagic))
	}

	rr := recordReader{r: bufio.NewReaderSize(f.file, 256<<10), remaining: size - int64(len(logMagic))}
	good := int64(len(logMagic))
	for {
		rec, n, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !isRecordErr(err) {
				return fmt.Errorf("kvserver: read log: %w", err)
			}
			f.recovery.Reason = err
			break
		}
		f.apply(rec)
		good += int64(n)
		f.recovery.Records++
	}
	f.recovery.Size = good
	if good < size {
		// A bad record: damage if intact records follow it, else a torn tail.
		next, found, err := resync(f.file, good+1, size)
		if err != nil {
			return err
		}
		if found {
			var rep LogReport
			if err := scanLog(f.file, next, size, &rep, nil); err != nil {
				return err
			}
			return &DamageError{Path: f.path, Offset: good, Reason: damageReason(f.recovery.Reason), Next: next,
				ValidRecords: rep.Records, ValidBytes: rep.Bytes + int64(rep.Records)*recordHeaderSize}
		}
		kept, err := keepTorn(f.file, f.path, good, size)
		if err != nil {
			return err
		}
		f.recovery.Cut, f.recovery.TornPath = size-good, kept
		if err := f.file.Truncate(good); err != nil {
			return fmt.Errorf("kvserver: cut torn log tail: %w", err)
		}
		if err := f.sync.Sync(); err != nil {
			return fmt.Errorf("kvserver: sync log: %w", err)
		}
		f.log.Warn("kvserver: cut the torn tail of the log, keeping its bytes beside it", "path", f.path,
			"records", f.recovery.Records, "kept_bytes", good, "cut_bytes", f.recovery.Cut, "reason", f.recovery.Reason, "torn_copy", kept)
	} else {
		f.log.Info("kvserver: replayed the log", "path", f.path, "records", f.recovery.Records, "bytes", good)
	}
	if _, err := f.file.Seek(good, io.SeekStart); err != nil {
		return fmt.Errorf("kvserver: seek log: %w", err)
	}
	f.size = good
	return nil
}

// apply carries out a record on the in-memory index.
func (f *FileStore) apply(r record) { f.index.apply(r) }

func (f *FileStore) lookup(key string) *entry        { return f.index.lookup(key) }
func (f *FileStore) forEach(fn func(string, *entry)) { f.index.forEach(fn) }
func (f *FileStore) mutate(r record)                 { f.commit(r) }

// commit logs r and applies it to the index. Before the first Commit, r is written (and, under
// SyncAlways, fsynced) before it is applied; afterwards it is applied at once and written by
// the next Commit. A mutation that cannot be logged is not applied.
func (f *FileStore) commit(r record) {
	f.pollSyncErr()
	if f.err != nil {
		return
	}
	if r.payloadSize() > maxRecordPayload {
		f.log.Error("kvserver: mutation too large for the log, not applied", "key_bytes", len(r.key), "max", maxRecordPayload)
		return
	}
	f.pending = r.appendTo(f.pending)
	if !f.grouped && f.flush() != nil {
		return
	}
	f.apply(r)
	if !f.grouped {
		f.maybeCompact()
	}
}

// Commit writes every mutation made since the previous Commit to the log with one write and,
// under SyncAlways, one fsync: group commit, so a server that calls it once per round of
// requests, before sending that round's replies, pays one fsync per round instead of one per
// mutation (kvserver's server does; see Committer).
//
// The first call hands durability to the caller for good: from then on mutations are applied
// at once and reach the log only at the next Commit (or Close), so the caller must Commit
// before it acknowledges any of them. A store that is never committed writes, and fsyncs under
// SyncAlways, each mutation before applying it. If Commit fails, the mutations since the last
// successful one stay visible in memory but are not durable, and the store stops accepting
// mutations.
func (f *FileStore) Commit() error {
	if f.closed {
		return f.err
	}
	f.grouped = true
	f.pollSyncErr()
	if f.err != nil {
		return f.err
	}
	if err := f.flush(); err != nil {
		return err
	}
	f.maybeCompact()
	return nil
}

// flush writes the pending records and, under SyncAlways, fsyncs them.
func (f *FileStore) flush() error {
	if len(f.pending) == 0 {
		return nil
	}
	n, err := f.file.Write(f.pending)
	if cap(f.pending) > 1<<20 {
		f.pending = nil // one huge value or round should not pin its buffer forever
	} else {
		f.pending = f.pending[:0]
	}
	if err != nil {
		if n > 0 {
			// Cut the partial record so the log stays appendable for whoever repairs the disk.
			_ = f.file.Truncate(f.size)
			_, _ = f.file.Seek(f.size, io.SeekStart)
		}
		f.fail(fmt.Errorf("kvserver: write log: %w", err))
		return f.err
	}
	f.size += int64(n)
	switch f.policy {
	case SyncAlways:
		if err := f.sync.Sync(); err != nil {
			f.fail(fmt.Errorf("kvserver: fsync log: %w", err))
			return f.err
		}
	case SyncEverySecond:
		select {
		case f.dirty <- struct{}{}:
		default: // already signalled since the last fsync
		}
	}
	return nil
}

// pollSyncErr takes up a failure of the background fsync, if there was one.
func (f *FileStore) pollSyncErr() {
	if f.err != nil || f.syncErrs == nil {
		return
	}
	select {
	case err := <-f.syncErrs:
		f.fail(fmt.Errorf("kvserver: background fsync: %w", err))
	default:
	}
}

// fail stops mutations for good and tells the owner.
func (f *FileStore) fail(err error) {
	f.err = err
	f.log.Error("kvserver: the log cannot be written; the store no longer accepts mutations", "path", f.path, "err", err)
	if f.onErr != nil {
		f.onErr(err)
	}
}

// syncEvery fsyncs s every interval if something was written since the last fsync, until stop
// is closed. It runs beside the store's owner and touches only the file: fsync may run
// concurrently with writes to the same *os.File.
func syncEvery(interval time.Duration, s syncer, dirty <-chan struct{}, errs chan<- error, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			select {
			case <-dirty:
				if err := s.Sync(); err != nil {
					select {
					case errs <- err:
					default: // the owner has not yet seen an earlier failure; one is enough
					}
				}
			default: // nothing written since the last fsync
			}
		}
	}
}

// startSyncLoop starts the background fsync of SyncEverySecond on the current log file.
func (f *FileStore) startSyncLoop() {
	f.stop = make(chan struct{})
	f.stopped = make(chan struct{})
	go syncEvery(f.interval, f.sync, f.dirty, f.syncErrs, f.stop, f.stopped)
}

// stopSyncLoop stops the background fsync, if there is one, and waits for it to end.
func (f *FileStore) stopSyncLoop() {
	if f.stop != nil {
		close(f.stop)
		<-f.stopped
		f.stop = nil
	}
}

// Put appends value to key's list of values.
func (f *FileStore) Put(key string, value []byte) {
	f.commit(record{op: logPut, key: key, a: value})
}

// Prepend inserts value before key's first value.
func (f *FileStore) Prepend(key string, value []byte) {
	f.commit(record{op: logPrepend, key: key, a: value})
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

// Delete removes key and all of its values. Deleting a missing key logs nothing.
func (f *FileStore) Delete(key string) {
	if f.index.lookup(key) != nil {
		f.commit(record{op: logDelete, key: key})
	}
}

// Update replaces every value of key equal to oldValue by newValue. Updating a missing key
// logs nothing.
func (f *FileStore) Update(key string, oldValue, newValue []byte) {
	if f.index.Len(key) > 0 {
		f.commit(record{op: logUpdate, key: key, a: oldValue, b: newValue})
	}
}

// Clear removes every key.
func (f *FileStore) Clear() {
	if f.index.Keys() > 0 {
		f.commit(record{op: logClear})
	}
}

// Recovery reports what opening the store found in its log.
func (f *FileStore) Recovery() Recovery { return f.recovery }

// Err returns the failure that made the store stop accepting mutations, ErrStoreClosed after
// Close, or nil while it works.
func (f *FileStore) Err() error {
	f.pollSyncErr()
	return f.err
}

// Close writes what awaits a Commit, stops the background fsync, fsyncs the log a last time and
// closes it. Mutations after
// Close are ignored; reads still answer from memory. Close is idempotent and returns the same
// result every time.
func (f *FileStore) Close() error {
	if f.closed {
		return f.closeErr
	}
	f.closed = true
	if f.err == nil {
		f.flush()
	}
	f.stopSyncLoop()
	prior := f.Err()
	errs := []error{f.sync.Sync(), f.unlock(), f.file.Close()}
	if prior == nil {
		f.err = ErrStoreClosed
	}
	for _, err := range errs {
		if err != nil {
			f.closeErr = fmt.Errorf("kvserver: close log: %w", err)
			break
		}
	}
	if f.closeErr == nil && prior != nil {
		f.closeErr = prior
	}
	return f.closeErr
}

// syncDir fsyncs a directory so that a file created in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("kvserver: open log directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("kvserver: sync log directory: %w", err)
	}
	return nil
}
