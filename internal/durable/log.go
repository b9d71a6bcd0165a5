package durable

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"time"
)

// SyncPolicy says when a Log forces its records to stable storage.
type SyncPolicy int

const (
	// SyncAlways fsyncs in every Commit before it returns: a committed record survives a
	// power cut.
	SyncAlways SyncPolicy = iota
	// SyncInterval writes records to the operating system in Commit and fsyncs them in the
	// background every Options.Interval: a killed process loses nothing committed, a power
	// cut up to an interval.
	SyncInterval
)

// String names the policy.
func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// Options configure a Log. The zero value is a log with no header that fsyncs every Commit.
type Options struct {
	// Magic is written at the start of a new log and checked when one is opened; a file that
	// does not start with it is refused with ErrNotLog. Its last byte is a good place for a
	// format version.
	Magic string
	// Sync is the fsync policy; Interval is SyncInterval's period, one second if zero.
	Sync     SyncPolicy
	Interval time.Duration
	// FS is the file system; nil means OS. Tests pass a MemFS.
	FS FS
	// MaxRecord bounds a payload; zero means DefaultMaxRecord.
	MaxRecord int
	// Check, if set, judges a checksummed payload: a payload it rejects counts as a bad
	// record (ErrBadRecord), both when a log is opened and when damage is searched for intact
	// records. It must not keep the payload.
	Check func(payload []byte) error
}

// ErrBackgroundSync is returned (wrapping the cause) by the Commit that follows a failed
// background fsync of SyncInterval: records committed before it may not survive a power cut.
// That Commit's own records were written; a Commit whose write fails returns only its own
// error and leaves the background failure for the next one.
var ErrBackgroundSync = errors.New("durable: background fsync failed")

// Recovery tells what opening a Log found.
type Recovery struct {
	Records int   // intact records
	Size    int64 // bytes kept, header included
	Cut     int64 // bytes cut off a torn tail; 0 if the log was intact
	Reason  error // why the tail was cut (ErrTornRecord, ErrChecksum, ErrBadRecord); nil if not
	// TornPath names the file beside the log that keeps the bytes cut off; empty if none.
	TornPath string
}

// ErrDamaged is what a *DamageError matches: a bad record with intact records after it.
var ErrDamaged = errors.New("durable: log damaged before its end")

// DamageError is returned by Open when the log holds a bad record followed by intact ones:
// cutting there would delete records that were once written whole, so the file is left as it
// is. It matches ErrDamaged and its Reason with errors.Is.
type DamageError struct {
	Path         string
	Offset       int64 // where the first bad record starts
	Reason       error // ErrChecksum, ErrBadRecord or ErrBadLength
	Next         int64 // where the first intact record after it starts
	ValidRecords int   // intact records from Next to the end of the log
	ValidBytes   int64 // their size in bytes, headers included
}

// Error says where the log is damaged, why, and how much intact data follows.
func (e *DamageError) Error() string {
	return fmt.Sprintf("durable: log %s damaged at offset %d (%v); %d intact records (%d bytes) follow from offset %d",
		e.Path, e.Offset, e.Reason, e.ValidRecords, e.ValidBytes, e.Next)
}

// Unwrap lets errors.Is match ErrDamaged and the reason.
func (e *DamageError) Unwrap() []error { return []error{ErrDamaged, e.Reason} }

// Log is an append-only file of checksummed records. Append buffers records in memory;
// Commit writes everything appended since the last Commit with one write and, under
// SyncAlways, one fsync (group commit). Every call returns its own error: a failed Commit
// discards the records appended since the previous one and cuts anything it wrote, so the file
// keeps exactly the committed records, and the next Commit simply tries again.
//
// A Log is used by one goroutine (its owner), except that a Rewrite may be filled on another.
type Log struct {
	path string
	fs   FS
	opts Options

	file        File
	size        int64 // end of the committed records
	pending     []byte
	dirtyTail   bool // a failed Commit may have left bytes past size
	needDirSync bool // a rename into place has not been made durable yet
	recovery    Recovery
	closed      bool
	closeErr    error
	bg          *syncLoop // SyncInterval's fsync goroutine; nil otherwise
	replaced    *Rewrite  // the last Rewrite that replaced the file, for Close to release
}

// Open opens the log at path, creating it if needed, and checks it record by record. A torn
// tail, as a crash in the middle of an append leaves (a bad record with no intact one after
// it), is cut off; its bytes are kept beside the log in path.torn-OFFSET and Recovery reports
// it. A bad record followed by intact ones fails with a *DamageError and leaves the file
// untouched. Open fails with ErrNotLog if the file does not start with opts.Magic and with
// ErrLocked if another process has it open. A file path.rewrite left by an interrupted
// Rewrite is removed.
func Open(path string, opts Options) (*Log, error) {
	l := &Log{path: path, fs: opts.FS, opts: opts}
	if l.fs == nil {
		l.fs = OS
	}
	if l.opts.MaxRecord <= 0 {
		l.opts.MaxRecord = DefaultMaxRecord
	}
	if l.opts.Interval <= 0 {
		l.opts.Interval = time.Second
	}
	switch opts.Sync {
	case SyncAlways, SyncInterval:
	default:
		return nil, fmt.Errorf("durable: invalid sync policy %v", opts.Sync)
	}
	f, err := l.fs.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("durable: open log: %w", err)
	}
	if err := f.Lock(); err != nil {
		f.Close()
		return nil, err
	}
	l.file = f
	if err := l.recover(); err != nil {
		f.Close()
		return nil, err
	}
	if err := l.fs.Remove(l.rewritePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		f.Close()
		return nil, fmt.Errorf("durable: remove interrupted rewrite: %w", err)
	}
	if l.opts.Sync == SyncInterval {
		l.bg = startSyncLoop(l.file, l.opts.Interval, nil)
	}
	return l, nil
}

func (l *Log) rewritePath() string { return l.path + ".rewrite" }

// recover checks the header and the records, and cuts a torn tail.
func (l *Log) recover() error {
	size, err := l.file.Size()
	if err != nil {
		return fmt.Errorf("durable: stat log: %w", err)
	}
	magic := l.opts.Magic
	hdr := make([]byte, min(size, int64(len(magic))))
	if _, err := l.file.ReadAt(hdr, 0); err != nil && err != io.EOF {
		return fmt.Errorf("durable: read log: %w", err)
	}
	if string(hdr) != magic[:len(hdr)] {
		return fmt.Errorf("%w: %s", ErrNotLog, l.path)
	}
	if size < int64(len(magic)) {
		// A new log, or one whose creation was cut short: write the header and make the
		// file's existence durable before anything is logged in it.
		if err := l.file.Truncate(0); err != nil {
			return fmt.Errorf("durable: reset log: %w", err)
		}
		if _, err := l.file.WriteAt([]byte(magic), 0); err != nil {
			return fmt.Errorf("durable: write log header: %w", err)
		}
		if err := l.file.Sync(); err != nil {
			return fmt.Errorf("durable: sync log: %w", err)
		}
		if err := l.fs.SyncDir(filepath.Dir(l.path)); err != nil {
			return fmt.Errorf("durable: sync log directory: %w", err)
		}
		size = int64(len(magic))
	}
	rr := newReader(l.file, int64(len(magic)), size, l.opts)
	for {
		_, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !isRecordErr(err) {
				return fmt.Errorf("durable: read log: %w", err)
			}
			l.recovery.Reason = err
			break
		}
		l.recovery.Records++
	}
	good := rr.pos
	l.recovery.Size = good
	l.size = good
	if good == size {
		return nil
	}
	next, found, err := resync(l.file, good+1, size, l.opts)
	if err != nil {
		return err
	}
	if found {
		var rep Report
		if err := scan(l.file, next, size, l.opts, &rep, nil); err != nil {
			return err
		}
		return &DamageError{Path: l.path, Offset: good, Reason: damageReason(l.recovery.Reason), Next: next,
			ValidRecords: rep.Records, ValidBytes: rep.Bytes + int64(rep.Records)*HeaderSize}
	}
	kept, err := keepTorn(l.fs, l.file, l.path, good, size)
	if err != nil {
		return err
	}
	l.recovery.Cut, l.recovery.TornPath = size-good, kept
	if err := l.file.Truncate(good); err != nil {
		return fmt.Errorf("durable: cut torn log tail: %w", err)
	}
	if err := l.file.Sync(); err != nil {
		return fmt.Errorf("durable: sync log: %w", err)
	}
	return nil
}

// Recovery reports what Open found.
func (l *Log) Recovery() Recovery { return l.recovery }

// Path returns the log's file name.
func (l *Log) Path() string { return l.path }

// Size returns the bytes of committed records, header included.
func (l *Log) Size() int64 { return l.size }

// Records returns the committed records in order. Each payload is valid until the next
// iteration. An unreadable file ends the sequence with its error.
func (l *Log) Records() iter.Seq2[[]byte, error] {
	return records(l.file, int64(len(l.opts.Magic)), l.size, l.opts)
}

func records(r io.ReaderAt, from, to int64, opts Options) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		rr := newReader(r, from, to, opts)
		for {
			p, err := rr.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, fmt.Errorf("durable: read log: %w", err))
				return
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}

// Append adds a record holding payload to those the next Commit writes. It copies payload.
func (l *Log) Append(payload []byte) error {
	if l.closed {
		return ErrClosed
	}
	if len(payload) > l.opts.MaxRecord {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(payload), l.opts.MaxRecord)
	}
	l.pending = AppendRecord(l.pending, payload)
	return nil
}

// Commit writes the records appended since the last Commit with one write and, under
// SyncAlways, fsyncs them. If it fails, those records are discarded and whatever of them
// reached the file is cut, so the log holds exactly what earlier Commits wrote.
func (l *Log) Commit() error {
	if l.closed {
		return ErrClosed
	}
	if err := l.commit(); err != nil {
		return err // a background failure waits for the next Commit
	}
	if l.bg != nil {
		if err := l.bg.takeErr(); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBackgroundSync, l.path, err)
		}
	}
	return nil
}

func (l *Log) commit() error {
	pending := l.pending
	l.pending = l.pending[:0]
	if cap(l.pending) > 1<<20 {
		l.pending = nil // one huge record should not pin its buffer forever
	}
	if l.dirtyTail {
		if err := l.file.Truncate(l.size); err != nil {
			return fmt.Errorf("durable: cut a failed write from %s: %w", l.path, err)
		}
		l.dirtyTail = false
	}
	if l.needDirSync {
		if err := l.fs.SyncDir(filepath.Dir(l.path)); err != nil {
			return fmt.Errorf("durable: sync log directory: %w", err)
		}
		l.needDirSync = false
	}
	if len(pending) == 0 {
		return nil
	}
	n, err := l.file.WriteAt(pending, l.size)
	if err == nil && l.opts.Sync == SyncAlways {
		if err = l.file.Sync(); err != nil {
			err = fmt.Errorf("durable: fsync %s: %w", l.path, err)
		}
	} else if err != nil {
		err = fmt.Errorf("durable: write %s: %w", l.path, err)
	}
	if err != nil {
		// Cut whatever reached the file, whatever n says: os.File.WriteAt reports no bytes
		// when a pwrite fails part way (a full disk, a file size limit), though some landed.
		l.dirtyTail = l.file.Truncate(l.size) != nil
		return err
	}
	l.size += int64(n)
	if l.bg != nil {
		l.bg.markDirty()
	}
	return nil
}

// Close commits what was appended, fsyncs, and closes the file. It is idempotent and returns
// the same result every time.
func (l *Log) Close() error {
	if l.closed {
		return l.closeErr
	}
	err := l.Commit()
	if l.bg != nil {
		l.bg.stop()
		l.bg = nil
	}
	if serr := l.file.Sync(); serr != nil {
		err = errors.Join(err, fmt.Errorf("durable: fsync %s: %w", l.path, serr))
	}
	if cerr := l.file.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("durable: close %s: %w", l.path, cerr))
	}
	if l.replaced != nil {
		l.replaced.Release() // the old file is fsynced and unnamed: nothing to lose
	}
	l.closed, l.closeErr = true, err
	return err
}

// reader reads the records of a log sequentially, never allocating more than the bytes the log
// still holds, so a damaged length cannot exhaust memory.
type reader struct {
	r    *bufio.Reader
	pos  int64 // offset of the next record
	end  int64
	opts Options
	buf  []byte
	hdr  [HeaderSize]byte // a field, not a local: through io.ReadFull a local escapes, one allocation per record
}

func newReader(r io.ReaderAt, from, to int64, opts Options) *reader {
	if opts.MaxRecord <= 0 {
		opts.MaxRecord = DefaultMaxRecord
	}
	return &reader{r: bufio.NewReaderSize(io.NewSectionReader(r, from, to-from), 256<<10), pos: from, end: to, opts: opts}
}

// next returns the next payload. It returns io.EOF at a clean end, one of ErrTornRecord,
// ErrChecksum or ErrBadRecord at a bad record (pos stays at its start), and any other error
// when the file cannot be read. The payload aliases a buffer that the next call reuses.
func (rr *reader) next() ([]byte, error) {
	remaining := rr.end - rr.pos
	if remaining == 0 {
		return nil, io.EOF
	}
	if remaining < HeaderSize {
		return nil, ErrTornRecord
	}
	hdr := rr.hdr[:]
	if _, err := io.ReadFull(rr.r, hdr); err != nil {
		return nil, readErr(err)
	}
	n := int64(binary.LittleEndian.Uint32(hdr[0:4]))
	if n > int64(rr.opts.MaxRecord) {
		return nil, ErrBadRecord
	}
	if n > remaining-HeaderSize {
		return nil, ErrTornRecord
	}
	size := HeaderSize + int(n)
	if cap(rr.buf) < size {
		rr.buf = make([]byte, size)
	}
	buf := rr.buf[:size]
	copy(buf, hdr)
	if _, err := io.ReadFull(rr.r, buf[HeaderSize:]); err != nil {
		return nil, readErr(err)
	}
	p, _, err := decode(buf, rr.opts)
	if err != nil {
		return nil, err
	}
	rr.pos += int64(size)
	return p, nil
}

// decode is DecodeRecord followed by the log's Check.
func decode(b []byte, opts Options) ([]byte, int, error) {
	p, n, err := DecodeRecord(b, opts.MaxRecord)
	if err == nil && opts.Check != nil && opts.Check(p) != nil {
		return nil, 0, ErrBadRecord
	}
	return p, n, err
}

// readErr maps a short read (the file shrank under us) to a torn record.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTornRecord
	}
	return err
}

// syncLoop fsyncs a file every interval if something was written since the last fsync. It
// touches only the file (fsync may run beside writes to it), and the directory when it was
// started with one to make durable, and reports a failure once.
type syncLoop struct {
	dirty   chan struct{}
	errs    chan error
	quit    chan struct{}
	stopped chan struct{}
}

// startSyncLoop starts the loop for f. A non-nil first is done at once and then retried at
// every tick until it succeeds: Replace hands the loop the fsyncs that make a renamed log
// durable, so that its owner does not wait for them.
func startSyncLoop(f File, interval time.Duration, first func() error) *syncLoop {
	s := &syncLoop{dirty: make(chan struct{}, 1), errs: make(chan error, 1), quit: make(chan struct{}), stopped: make(chan struct{})}
	go s.run(f, interval, first)
	return s
}

func (s *syncLoop) run(f File, interval time.Duration, first func() error) {
	defer close(s.stopped)
	if first != nil && s.report(first()) {
		first = nil
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-tick.C:
			if first != nil && s.report(first()) {
				first = nil
			}
			select {
			case <-s.dirty:
				s.report(f.Sync())
			default: // nothing written since the last fsync
			}
		}
	}
}

// report passes err on to the owner, and reports whether there was none.
func (s *syncLoop) report(err error) bool {
	if err == nil {
		return true
	}
	select {
	case s.errs <- err:
	default: // the owner has not yet taken an earlier failure; one is enough
	}
	return false
}

func (s *syncLoop) markDirty() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

func (s *syncLoop) takeErr() error {
	select {
	case err := <-s.errs:
		return err
	default:
		return nil
	}
}

// stop ends the goroutine and waits for it.
func (s *syncLoop) stop() {
	s.quitSoon()
	s.wait()
}

// quitSoon tells the goroutine to end after the fsync it may be making, without waiting.
func (s *syncLoop) quitSoon() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
}

// wait waits for the goroutine to end.
func (s *syncLoop) wait() { <-s.stopped }
