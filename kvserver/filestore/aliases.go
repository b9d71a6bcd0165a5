package filestore

import "ds440/kvserver/internal/keyspace"

// Short names for the keyspace's types and mutations, the same as kvserver's.
type (
	entry       = keyspace.Entry
	record      = keyspace.Record
	memoryStore = keyspace.Store
)

const (
	kindList   = keyspace.KindList
	kindString = keyspace.KindString
	kindHash   = keyspace.KindHash
	kindSet    = keyspace.KindSet
	kindZSet   = keyspace.KindZSet

	logPut      = keyspace.OpPut
	logDelete   = keyspace.OpDelete
	logUpdate   = keyspace.OpUpdate
	logPrepend  = keyspace.OpPrepend
	logClear    = keyspace.OpClear
	logSet      = keyspace.OpSet
	logAppend   = keyspace.OpAppend
	logHSet     = keyspace.OpHSet
	logSAdd     = keyspace.OpSAdd
	logZAdd     = keyspace.OpZAdd
	logExpireAt = keyspace.OpExpireAt
)

func newMemoryStore() *memoryStore { return keyspace.New() }
