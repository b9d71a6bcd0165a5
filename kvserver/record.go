package kvserver

import (
	"encoding/binary"
	"errors"

	"ds440/internal/durable"
)

// The append-only log of a FileStore is an internal/durable log (a magic header, then records
// framed by a length and a CRC-32C) whose payloads are mutations:
//
//	op byte, then the op's fields, each a uvarint length and that many bytes
//
// Records are self-contained: replaying them in order rebuilds the store.

// logMagic starts every log file; its last byte is the format version.
const logMagic = "ds440kv\x01"

// recordHeaderSize is the size of a record's length and checksum.
const recordHeaderSize = durable.HeaderSize

// maxRecordPayload bounds one record, so that a damaged length can never make replay allocate
// more than this. Redis caps a bulk string at 512 MiB; one value must fit with its key.
const maxRecordPayload = durable.DefaultMaxRecord

// Errors describing why replay stopped before the end of a log. The bytes from the failing
// record on are cut off.
var (
	ErrTornRecord = errors.New("kvserver: log ends inside a record")
	ErrChecksum   = errors.New("kvserver: log record checksum mismatch")
	ErrBadRecord  = errors.New("kvserver: malformed log record")
)

// logOp is the kind of a logged mutation.
type logOp byte

const (
	logPut      logOp = 1 + iota // key, value
	logDelete                    // key
	logUpdate                    // key, old value, new value
	logPrepend                   // key, value
	logClear                     // no fields
	logSet                       // key, value: the key becomes a string
	logAppend                    // key, suffix: appended to a string (a missing key becomes one)
	logLPop                      // key: its list loses its first value
	logRPop                      // key: its list loses its last value
	logHSet                      // key, field, value
	logHDel                      // key, field
	logSAdd                      // key, member
	logSRem                      // key, member
	logZAdd                      // key, member, score (8 bytes: float64 bits, little endian)
	logZRem                      // key, member
	logExpireAt                  // key, time (8 bytes: Unix milliseconds, little endian; 0 persists)
)

// fields returns how many byte-string fields follow o in a payload, or -1 for an unknown op.
func (o logOp) fields() int {
	switch o {
	case logPut, logPrepend, logSet, logAppend, logHDel, logSAdd, logSRem, logZRem, logExpireAt:
		return 2
	case logDelete, logLPop, logRPop:
		return 1
	case logUpdate, logHSet, logZAdd:
		return 3
	case logClear:
		return 0
	}
	return -1
}

// record is one logged mutation; fields its op does not use are empty. A decoded record's
// values alias the buffer it was decoded from.
type record struct {
	op   logOp
	key  string
	a, b []byte // value (put, prepend) or old and new value (update)
}

// payloadSize returns the encoded size of r's payload.
func (r record) payloadSize() int {
	n := 1 + uvarintLen(uint64(len(r.key))) + len(r.key)
	for i, f := range [2][]byte{r.a, r.b} {
		if i+1 < r.op.fields() {
			n += uvarintLen(uint64(len(f))) + len(f)
		}
	}
	if r.op.fields() == 0 {
		n = 1
	}
	return n
}

// appendPayload appends r's payload to dst and returns the extended slice.
func (r record) appendPayload(dst []byte) []byte {
	dst = append(dst, byte(r.op))
	if r.op.fields() > 0 {
		dst = binary.AppendUvarint(dst, uint64(len(r.key)))
		dst = append(dst, r.key...)
	}
	for i, f := range [2][]byte{r.a, r.b} {
		if i+1 < r.op.fields() {
			dst = binary.AppendUvarint(dst, uint64(len(f)))
			dst = append(dst, f...)
		}
	}
	return dst
}

// appendTo appends r framed as a log record, header included, to dst.
func (r record) appendTo(dst []byte) []byte {
	return durable.AppendRecord(dst, r.appendPayload(nil))
}

// decodeRecord decodes the framed record at the start of b and returns it with its size in
// bytes. It fails with ErrTornRecord if b ends before the record does, ErrChecksum if the
// record is damaged, and ErrBadRecord if it is well checksummed but not a valid record.
func decodeRecord(b []byte) (record, int, error) {
	p, n, err := durable.DecodeRecord(b, maxRecordPayload)
	if err != nil {
		return record{}, 0, reasonOf(err)
	}
	r, err := decodePayload(p)
	if err != nil {
		return record{}, 0, err
	}
	return r, n, nil
}

// decodePayload decodes a checksummed payload, which must hold exactly one record.
func decodePayload(p []byte) (record, error) {
	if len(p) == 0 {
		return record{}, ErrBadRecord
	}
	r := record{op: logOp(p[0])}
	nf := r.op.fields()
	if nf < 0 {
		return record{}, ErrBadRecord
	}
	p = p[1:]
	var fs [3][]byte
	for i := 0; i < nf; i++ {
		l, k := binary.Uvarint(p)
		if k <= 0 || k != uvarintLen(l) || l > uint64(len(p)-k) { // only the shortest encoding
			return record{}, ErrBadRecord
		}
		fs[i] = p[k : k+int(l) : k+int(l)]
		p = p[k+int(l):]
	}
	if len(p) != 0 {
		return record{}, ErrBadRecord
	}
	if (r.op == logZAdd && len(fs[2]) != 8) || (r.op == logExpireAt && len(fs[1]) != 8) {
		return record{}, ErrBadRecord
	}
	r.key, r.a, r.b = string(fs[0]), fs[1], fs[2]
	return r, nil
}

// uvarintLen returns the size of x encoded as a uvarint.
func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
