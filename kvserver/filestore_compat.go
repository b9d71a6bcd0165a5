package kvserver

import "ds440/kvserver/filestore"

// The append-only file lives in package kvserver/filestore. The names below keep the shape
// kvserver has always offered (NewFileStore returning a KVStore that commits every mutation)
// and the older spellings of filestore's names; new code imports kvserver/filestore.

// SyncPolicy says when a FileStore forces its log to stable storage; see filestore.SyncPolicy.
type SyncPolicy = filestore.SyncPolicy

const (
	SyncAlways      = filestore.SyncAlways      // fsync in every Commit
	SyncEverySecond = filestore.SyncEverySecond // fsync in the background once a second
)

// ParseSyncPolicy parses "always" or "everysec"; see filestore.ParseSyncPolicy.
func ParseSyncPolicy(s string) (SyncPolicy, error) { return filestore.ParseSyncPolicy(s) }

type (
	FileStore        = filestore.FileStore   // a KVStore kept in memory and logged to a file
	FileStoreOptions = filestore.Options     // optional settings of a FileStore
	Recovery         = filestore.Recovery    // what opening a FileStore found in its log
	DamageError      = filestore.DamageError // a log damaged before its end
	LogReport        = filestore.Report      // what CheckLog and RepairLog found
	LogDamage        = filestore.Damage      // one damaged stretch of a log
)

// Errors of a FileStore; see package filestore.
var (
	ErrNotLog      = filestore.ErrNotLog
	ErrLogLocked   = filestore.ErrLogLocked
	ErrStoreClosed = filestore.ErrClosed
	ErrLogDamaged  = filestore.ErrLogDamaged
	ErrBadLength   = filestore.ErrBadLength
	ErrTornRecord  = filestore.ErrTornRecord
	ErrChecksum    = filestore.ErrChecksum
	ErrBadRecord   = filestore.ErrBadRecord
)

// A FileStore offers the Redis list operations natively, so LPUSH and LRANGE stay O(1) and
// O(range) through it, and commits in groups.
var (
	_ ListStore = (*FileStore)(nil)
	_ Committer = (*FileStore)(nil)
)

// OpenFileStore is filestore.Open.
func OpenFileStore(path string, policy SyncPolicy, opts FileStoreOptions) (*FileStore, error) {
	return filestore.Open(path, policy, opts)
}

// CheckLog is filestore.Check.
func CheckLog(path string) (LogReport, error) { return filestore.Check(path) }

// RepairLog is filestore.Repair.
func RepairLog(src, dst string) (LogReport, error) { return filestore.Repair(src, dst) }

// NewFileStore opens the log at path, creating it if needed, replays it and returns a store
// that commits every mutation before the call returns, which is what the KVStore interface,
// with no Commit, lets a caller expect; close it through io.Closer. A server, which commits
// once per round, is faster with a *filestore.FileStore. A torn tail is cut off and kept
// beside the log; a log damaged before its end is not opened: the error is a *DamageError
// matching ErrLogDamaged.
func NewFileStore(path string, sync SyncPolicy) (KVStore, error) {
	f, err := filestore.Open(path, sync, filestore.Options{})
	if err != nil {
		return nil, err
	}
	return committing{f}, nil
}

// committing is the store NewFileStore returns: a FileStore that commits each mutation before
// returning, for callers that know only the KVStore interface. A mutation that cannot be
// logged is undone by its Commit (see filestore.FileStore.Commit), so reads never show what
// a restart would not find; KVStore's methods have no error to return it through.
type committing struct{ *filestore.FileStore }

func (c committing) commitNow() { _ = c.Commit() }

func (c committing) Put(key string, value []byte) { c.FileStore.Put(key, value); c.commitNow() }
func (c committing) Prepend(key string, value []byte) {
	c.FileStore.Prepend(key, value)
	c.commitNow()
}
func (c committing) Delete(key string) { c.FileStore.Delete(key); c.commitNow() }
func (c committing) Update(key string, oldValue, newValue []byte) {
	c.FileStore.Update(key, oldValue, newValue)
	c.commitNow()
}
func (c committing) Clear()          { c.FileStore.Clear(); c.commitNow() }
func (c committing) Mutate(r record) { c.FileStore.Mutate(r); c.commitNow() }
