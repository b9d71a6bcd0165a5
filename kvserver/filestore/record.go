package filestore

import (
	"ds440/internal/durable"
	"ds440/kvserver/internal/keyspace"
)

// The append-only log of a FileStore is an internal/durable log (a magic header, then records
// framed by a length and a CRC-32C) whose payloads are keyspace mutations:
//
//	op byte, then the op's fields, each a uvarint length and that many bytes
//
// Records are self-contained: replaying them in order rebuilds the store.

const (
	logMagic         = keyspace.Magic
	recordHeaderSize = durable.HeaderSize
	maxRecordPayload = keyspace.MaxPayload
)
