package filestore

import (
	"errors"

	"ds440/internal/durable"
	"ds440/kvserver/internal/keyspace"
)

// The append-only log of a FileStore is an internal/durable log (a magic header, then records
// framed by a length and a CRC-32C) whose payloads are mutations:
//
//	op byte, then the op's fields, each a uvarint length and that many bytes
//
// Records are self-contained: replaying them in order rebuilds the store.

const (
	logMagic         = keyspace.Magic
	recordHeaderSize = durable.HeaderSize
	maxRecordPayload = keyspace.MaxPayload
)

// Errors describing why replay stopped before the end of a log. The bytes from the failing
// record on are cut off.
var (
	ErrTornRecord = errors.New("filestore: log ends inside a record")
	ErrChecksum   = errors.New("filestore: log record checksum mismatch")
	ErrBadRecord  = keyspace.ErrBadRecord
)

// decodeRecord decodes the framed record at the start of b and returns it with its size in
// bytes. It fails with ErrTornRecord if b ends before the record does, ErrChecksum if the
// record is damaged, and ErrBadRecord if it is well checksummed but not a valid record.
func decodeRecord(b []byte) (keyspace.Record, int, error) {
	p, n, err := durable.DecodeRecord(b, maxRecordPayload)
	if err != nil {
		return keyspace.Record{}, 0, reasonOf(err)
	}
	r, err := decodePayload(p)
	if err != nil {
		return keyspace.Record{}, 0, err
	}
	return r, n, nil
}

func decodePayload(p []byte) (keyspace.Record, error) { return keyspace.DecodePayload(p) }
