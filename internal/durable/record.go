package durable

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// A log is a header (Options.Magic) followed by records:
//
//	length  uint32, little endian: number of payload bytes
//	crc     uint32, little endian: CRC-32C of the length bytes and the payload
//	payload length bytes, opaque to this package (Options.Check may judge them)
//
// The checksum covers the length too, so a damaged length is caught as surely as damaged data.

// HeaderSize is the size of a record's length and checksum.
const HeaderSize = 8

// DefaultMaxRecord bounds a record's payload when Options.MaxRecord is zero, so that a damaged
// length can never make a reader allocate more than this. Redis caps a bulk string at 512 MiB;
// one value must fit with its key.
const DefaultMaxRecord = 1<<29 + 1<<20

// Errors describing a bad record.
var (
	ErrTornRecord = errors.New("durable: log ends inside a record")
	ErrChecksum   = errors.New("durable: log record checksum mismatch")
	ErrBadRecord  = errors.New("durable: malformed log record")
	// ErrBadLength is the reason for a record whose length runs past intact records that
	// follow it: its length field, not the end of the log, is wrong.
	ErrBadLength = errors.New("durable: log record length is damaged")
	// ErrTooLarge is returned by Append for a payload over the log's MaxRecord.
	ErrTooLarge = errors.New("durable: record too large")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum returns the CRC-32C of a record's length bytes followed by its payload.
func checksum(length, payload []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, length), castagnoli, payload)
}

// AppendRecord appends payload framed as a record (length, checksum, payload) to dst.
func AppendRecord(dst, payload []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = append(dst, payload...)
	binary.LittleEndian.PutUint32(dst[start+4:], checksum(dst[start:start+4], payload))
	return dst
}

// DecodeRecord decodes the record at the start of b and returns its payload (aliasing b) and
// its size in bytes, header included. It fails with ErrTornRecord if b ends before the record
// does, ErrBadRecord if the length exceeds max, and ErrChecksum if the record is damaged.
func DecodeRecord(b []byte, max int) ([]byte, int, error) {
	if len(b) < HeaderSize {
		return nil, 0, ErrTornRecord
	}
	n := binary.LittleEndian.Uint32(b[0:4])
	if uint64(n) > uint64(max) {
		return nil, 0, ErrBadRecord
	}
	end := HeaderSize + int(n)
	if len(b) < end {
		return nil, 0, ErrTornRecord
	}
	payload := b[HeaderSize:end:end]
	if checksum(b[0:4], payload) != binary.LittleEndian.Uint32(b[4:8]) {
		return nil, 0, ErrChecksum
	}
	return payload, end, nil
}

// isRecordErr reports whether err says a record is bad, as opposed to the file being unreadable.
func isRecordErr(err error) bool {
	return errors.Is(err, ErrTornRecord) || errors.Is(err, ErrChecksum) || errors.Is(err, ErrBadRecord) || errors.Is(err, ErrBadLength)
}

// damageReason is the reason for a bad record that intact records follow: a record that
// seemed to run past the end of the log really has a damaged length.
func damageReason(err error) error {
	if errors.Is(err, ErrTornRecord) {
		return ErrBadLength
	}
	return err
}
