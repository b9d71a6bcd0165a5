// Package filestore is a key-value store kept in memory and made durable by an append-only
// file, in the manner of Redis's AOF. It holds kvserver's whole keyspace (lists, strings,
// hashes, sets, sorted sets, expiry) and is what `kvserver -aof FILE` serves.
//
// # Use
//
// Open a log (created if missing), mutate, and Commit before you acknowledge anything:
//
//	store, err := filestore.Open("appendonly.log", filestore.SyncAlways, filestore.Options{})
//	...
//	defer store.Close()
//	if err := store.Put("fruit", []byte("apple")); err != nil { ... } // closed, or too large
//	store.Update("fruit", []byte("apple"), []byte("pear"))
//	if err := store.Commit(); err != nil { ... } // one write, one fsync for both; rolled back
//
// Mutations are visible to reads at once and reach the file at the next Commit, all of them in
// one write and, under SyncAlways, one fsync: group commit, so a server that commits once per
// round of requests pays one fsync per round. Under SyncEverySecond a Commit writes at once
// and the fsync runs in the background once a second: a crash of the process loses nothing
// committed, a power cut up to a second.
//
// # Errors
//
// Every call returns its own error and the store keeps none. A mutation that cannot be logged
// (ErrClosed, ErrTooLarge) fails and changes nothing. A Commit that cannot write or fsync
// fails and rolls the store back to what the log holds, so nothing is read, and nothing
// acknowledged, that a restart would not find; the next Commit tries the disk again. A failed
// background fsync of SyncEverySecond is reported by the next Commit (ErrSyncFailed).
//
// # Recovery
//
// Open replays the log. A torn tail, as a crash in the middle of a write leaves, is cut off at
// the last intact record and its bytes are kept beside the log (see Recovery). A bad record
// with intact ones after it is damage, not a torn write: Open refuses with a *DamageError
// (errors.Is ErrLogDamaged) and leaves the file alone; Check reports what is where and Repair
// writes a copy holding every intact record. A file that is not a log (ErrNotLog) or is open
// in another process (ErrLogLocked) is never touched.
//
// # Compaction
//
// Once the log has passed Options.CompactSize and doubled since its last rewrite, it is
// rewritten to hold only the current values, beside the running store (see
// FileStore.Compact); the old log stays in place until the new one is complete and synced.
//
// A FileStore is used from one goroutine; only its background fsync and log rewrite, which
// touch nothing but files and memory of their own, run beside it.
package filestore
