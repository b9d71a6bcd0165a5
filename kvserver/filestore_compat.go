package kvserver

import (
	"errors"

	"ds440/kvserver/filestore"
)

// The append-only file lives in package kvserver/filestore, whose FileStore returns an error
// from every mutation. KVStore's methods return nothing, so this file adapts it: FileStore
// serves it to a Server, which commits once per round and drops the clients of a round that
// fails; NewFileStore keeps the contract's shape, committing every mutation and stopping at the
// first failure. Checking and repairing a log, and the errors of opening one, are filestore's.

// SyncPolicy says when a FileStore forces its log to stable storage; see filestore.SyncPolicy.
type SyncPolicy = filestore.SyncPolicy

const (
	SyncAlways      = filestore.SyncAlways      // fsync in every Commit, before anything is answered
	SyncEverySecond = filestore.SyncEverySecond // fsync in the background once a second
)

// ParseSyncPolicy parses "always" or "everysec"; see filestore.ParseSyncPolicy.
func ParseSyncPolicy(s string) (SyncPolicy, error) { return filestore.ParseSyncPolicy(s) }

// FileStore is a *filestore.FileStore as a Server's store: a ListStore (with the typed keyspace
// of the Redis commands) and a Committer. Mutations are applied at once and made durable by
// Commit, which the server calls once per round of requests before it answers any of them
// (group commit; see Committer).
//
// When something fails, nothing is acknowledged: a mutation the store refuses (it is closed,
// or the mutation is too large for a log record) changes nothing and makes the round's Commit
// return the refusal, and a round whose records cannot be written or fsynced is rolled back
// by filestore and its Commit returns why. Either way the server drops the clients the round
// would have answered, and the store goes on serving: the next round tries again.
//
// The embedded *filestore.FileStore gives the reads, Compact, Recovery and Close; its
// mutations, which return their errors, are reachable as s.FileStore.Put and so on.
type FileStore struct {
	*filestore.FileStore
	refused error // the mutations of this round the store refused; reported by Commit
}

// FileStoreOptions holds OpenFileStore's optional settings; see filestore.Options.
type FileStoreOptions = filestore.Options

var (
	_ ListStore  = (*FileStore)(nil)
	_ Committer  = (*FileStore)(nil)
	_ typedStore = (*committing)(nil)
	_ Committer  = (*committing)(nil)
)

// OpenFileStore opens the log at path, creating it if needed, and replays it (see
// filestore.Open for what it refuses) into a store a Server commits once per round; this is
// what `kvserver -aof` serves.
func OpenFileStore(path string, policy SyncPolicy, opts FileStoreOptions) (*FileStore, error) {
	f, err := filestore.Open(path, policy, opts)
	if err != nil {
		return nil, err
	}
	return &FileStore{FileStore: f}, nil
}

func (s *FileStore) refuse(err error) { s.refused = errors.Join(s.refused, err) }

// Put appends value to key's list of values; see FileStore for what a failure does.
func (s *FileStore) Put(key string, value []byte) { s.refuse(s.FileStore.Put(key, value)) }

// Prepend inserts value before key's first value.
func (s *FileStore) Prepend(key string, value []byte) { s.refuse(s.FileStore.Prepend(key, value)) }

// Delete removes key and all of its values.
func (s *FileStore) Delete(key string) { s.refuse(s.FileStore.Delete(key)) }

// Update replaces every value of key equal to oldValue by newValue.
func (s *FileStore) Update(key string, oldValue, newValue []byte) {
	s.refuse(s.FileStore.Update(key, oldValue, newValue))
}

// Clear removes every key.
func (s *FileStore) Clear() { s.refuse(s.FileStore.Clear()) }

// Mutate applies a typed mutation of the Redis commands.
func (s *FileStore) Mutate(r record) { s.refuse(s.FileStore.Mutate(r)) }

// Commit makes the mutations since the previous Commit durable. It fails if any of them was
// refused (those that were not are committed all the same) or if they cannot be written,
// which rolls them back (see filestore.FileStore.Commit).
func (s *FileStore) Commit() error {
	refused := s.refused
	s.refused = nil
	return errors.Join(refused, s.FileStore.Commit())
}

// NewFileStore opens the log at path, creating it if needed, replays it and returns a store
// that commits every mutation before the call returns, which is what the KVStore interface,
// with no Commit, lets a caller expect; close it through io.Closer. A torn tail is cut off and
// kept beside the log; a log damaged before its end is not opened: the error is a
// *filestore.DamageError matching filestore.ErrLogDamaged. A Server is faster with
// OpenFileStore, which commits once per round of requests.
//
// KVStore's methods have no error to return, so the store stops at the first mutation that
// cannot be made durable, as a crash there would: that mutation is rolled back, or never
// applied, and every later one is refused, so the store (and its log) holds exactly the
// mutations made before the failure. (A failed background fsync of SyncEverySecond is
// reported by the mutation after it, which was written and stays.) Reads go on answering. The failure is returned by
// Close, and by Commit (the store is a Committer, so a Server serving it drops the clients
// of every round that mutates). Code that wants the error of each mutation uses
// filestore.FileStore.
func NewFileStore(path string, sync SyncPolicy) (KVStore, error) {
	f, err := filestore.Open(path, sync, filestore.Options{})
	if err != nil {
		return nil, err
	}
	return &committing{FileStore: f}, nil
}

// committing is the store NewFileStore returns.
type committing struct {
	*filestore.FileStore
	failed error // the first mutation that could not be made durable; nil while all were
}

// do makes one mutation and commits it, unless an earlier one failed.
func (c *committing) do(mutate func(*filestore.FileStore) error) {
	if c.failed != nil {
		return
	}
	err := mutate(c.FileStore)
	if err == nil {
		err = c.FileStore.Commit()
	}
	if err != nil {
		c.failed = errors.Join(errors.New("kvserver: the file store refuses mutations since this one failed"), err)
	}
}

func (c *committing) Put(key string, value []byte) {
	c.do(func(f *filestore.FileStore) error { return f.Put(key, value) })
}

func (c *committing) Prepend(key string, value []byte) {
	c.do(func(f *filestore.FileStore) error { return f.Prepend(key, value) })
}

func (c *committing) Delete(key string) {
	c.do(func(f *filestore.FileStore) error { return f.Delete(key) })
}

func (c *committing) Update(key string, oldValue, newValue []byte) {
	c.do(func(f *filestore.FileStore) error { return f.Update(key, oldValue, newValue) })
}

func (c *committing) Clear() { c.do((*filestore.FileStore).Clear) }

func (c *committing) Mutate(r record) {
	c.do(func(f *filestore.FileStore) error { return f.Mutate(r) })
}

// Commit returns the failure that stopped the store, if any: every mutation is committed
// already, but under SyncEverySecond a failed background fsync is reported here (and stops
// the store) if no mutation has reported it yet.
func (c *committing) Commit() error {
	c.do(func(*filestore.FileStore) error { return nil })
	return c.failed
}

// Close closes the log and returns the failure that stopped the store, if any, with Close's
// own error.
func (c *committing) Close() error { return errors.Join(c.failed, c.FileStore.Close()) }
