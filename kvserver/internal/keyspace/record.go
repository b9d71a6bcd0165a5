package keyspace

import (
	"encoding/binary"
	"errors"
	"math"
	"unsafe"

	"ds440/internal/durable"
)

// The append-only log of a kvserver FileStore is an internal/durable log (a magic header, then records
// framed by a length and a CRC-32C) whose payloads are mutations:
//
//	op byte, then the op's fields, each a uvarint length and that many bytes
//
// Records are self-contained: replaying them in order rebuilds the store.

// Magic starts every log file; its last byte is the format version.
const Magic = "ds440kv\x01"

// MaxPayload bounds one Record, so that a damaged length can never make replay allocate
// more than this. Redis caps a bulk string at 512 MiB; one value must fit with its key.
const MaxPayload = durable.DefaultMaxRecord

// ErrBadRecord is the error of a payload that is well checksummed but not a valid Record.
// kvserver/filestore exports it under the same name.
var ErrBadRecord = errors.New("filestore: malformed log record")

// Op is the kind of a logged mutation.
type Op byte

const (
	OpPut      Op = 1 + iota // key, value
	OpDelete                 // key
	OpUpdate                 // key, old value, new value
	OpPrepend                // key, value
	OpClear                  // no fields
	OpSet                    // key, value: the key becomes a string
	OpAppend                 // key, suffix: appended to a string (a missing key becomes one)
	OpLPop                   // key: its list loses its first value
	OpRPop                   // key: its list loses its last value
	OpHSet                   // key, field, value
	OpHDel                   // key, field
	OpSAdd                   // key, member
	OpSRem                   // key, member
	OpZAdd                   // key, member, score (8 bytes: float64 bits, little endian)
	OpZRem                   // key, member
	OpExpireAt               // key, time (8 bytes: Unix milliseconds, little endian; 0 persists)
)

// fields returns how many byte-string fields follow o in a payload, or -1 for an unknown op.
func (o Op) fields() int {
	switch o {
	case OpPut, OpPrepend, OpSet, OpAppend, OpHDel, OpSAdd, OpSRem, OpZRem, OpExpireAt:
		return 2
	case OpDelete, OpLPop, OpRPop:
		return 1
	case OpUpdate, OpHSet, OpZAdd:
		return 3
	case OpClear:
		return 0
	}
	return -1
}

// Record is one logged mutation; fields its op does not use are empty. A decoded Record's
// key and values alias the buffer it was decoded from. Whoever applies or logs a Record copies what it
// keeps of it, so its key and values may be views of a buffer the caller reuses afterwards.
type Record struct {
	Op   Op
	Key  string
	A, B []byte // value (put, prepend) or old and new value (update)
}

// PayloadSize returns the encoded size of r's payload.
func (r Record) PayloadSize() int {
	n := 1 + uvarintLen(uint64(len(r.Key))) + len(r.Key)
	for i, f := range [2][]byte{r.A, r.B} {
		if i+1 < r.Op.fields() {
			n += uvarintLen(uint64(len(f))) + len(f)
		}
	}
	if r.Op.fields() == 0 {
		n = 1
	}
	return n
}

// AppendPayload appends r's payload to dst and returns the extended slice.
func (r Record) AppendPayload(dst []byte) []byte {
	dst = append(dst, byte(r.Op))
	if r.Op.fields() > 0 {
		dst = binary.AppendUvarint(dst, uint64(len(r.Key)))
		dst = append(dst, r.Key...)
	}
	for i, f := range [2][]byte{r.A, r.B} {
		if i+1 < r.Op.fields() {
			dst = binary.AppendUvarint(dst, uint64(len(f)))
			dst = append(dst, f...)
		}
	}
	return dst
}

// AppendTo appends r framed as a log Record, header included, to dst.
func (r Record) AppendTo(dst []byte) []byte {
	return durable.AppendRecord(dst, r.AppendPayload(nil))
}

// DecodePayload decodes a checksummed payload, which must hold exactly one Record; it fails
// with ErrBadRecord otherwise. The Record's key and values alias p: p must not change while
// the Record is in use, and a caller that keeps the key copies it.
func DecodePayload(p []byte) (Record, error) {
	if len(p) == 0 {
		return Record{}, ErrBadRecord
	}
	r := Record{Op: Op(p[0])}
	nf := r.Op.fields()
	if nf < 0 {
		return Record{}, ErrBadRecord
	}
	p = p[1:]
	var fs [3][]byte
	for i := 0; i < nf; i++ {
		l, k := binary.Uvarint(p)
		if k <= 0 || k != uvarintLen(l) || l > uint64(len(p)-k) { // only the shortest encoding
			return Record{}, ErrBadRecord
		}
		fs[i] = p[k : k+int(l) : k+int(l)]
		p = p[k+int(l):]
	}
	if len(p) != 0 {
		return Record{}, ErrBadRecord
	}
	if (r.Op == OpZAdd && len(fs[2]) != 8) || (r.Op == OpExpireAt && len(fs[1]) != 8) {
		return Record{}, ErrBadRecord
	}
	// The key is a view too: replay applies millions of records, and a Store copies the few
	// keys it inserts (Apply), so a copy per record would be garbage per record.
	r.Key, r.A, r.B = unsafe.String(unsafe.SliceData(fs[0]), len(fs[0])), fs[1], fs[2]
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

// Float64Bytes encodes a score as OpZAdd's third field.
func Float64Bytes(f float64) []byte {
	return binary.LittleEndian.AppendUint64(nil, math.Float64bits(f))
}

// Int64Bytes encodes a time as OpExpireAt's second field.
func Int64Bytes(n int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(n)) }
