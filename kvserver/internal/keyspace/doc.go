// Package keyspace is kvserver's typed keyspace: the Redis types (lists, strings, hashes, sets,
// sorted sets, with expiry) held in memory by a Store, and the Record that describes every
// mutation of them with its encoding as a log payload.
//
// Every change is a Record applied by Store.Apply, live and on replay alike, so a durable
// store (kvserver/filestore) logs records and rebuilds the same state from its log with Replay.
// A string is a list of one value marked as a string, which keeps the KVStore contract's
// mapping (SET replaces the list with one value, GET returns the last value, RPUSH appends to
// it) while TYPE, INCR and the like can tell strings from lists.
//
// The package has no goroutines, clocks or I/O.
package keyspace
