package kvserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// The append-only log of a FileStore is a magic header followed by records:
//
//	length  uint32, little endian: number of payload bytes
//	crc     uint32, little endian: CRC-32C of the length bytes and the payload
//	payload op byte, then the op's fields, each a uvarint length and that many bytes
//
// The checksum covers the length too, so a damaged length is caught as surely as damaged data.
// Records are self-contained: replaying them in order rebuilds the store.

// logMagic starts every log file; its last byte is the format version.
const logMagic = "ds440kv\x01"

// recordHeaderSize is the size of a record's length and checksum.
const recordHeaderSize = 8

// maxRecordPayload bounds one record, so that a damaged length can never make replay allocate
// more than this. Redis caps a bulk string at 512 MiB; one value must fit with its key.
const maxRecordPayload = 1<<29 + 1<<20

// Errors describing why replay stopped before the end of a log. The bytes from the failing
// record on are cut off.
var (
	ErrTornRecord = errors.New("kvserver: log ends inside a record")
	ErrChecksum   = errors.New("kvserver: log record checksum mismatch")
	ErrBadRecord  = errors.New("kvserver: malformed log record")
)

// castagnoli is CRC-32C, computed in hardware on amd64 and arm64.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

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

// appendTo appends r, header included, to dst and returns the extended slice.
func (r record) appendTo(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, recordHeaderSize)...)
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
	hdr := dst[start : start+recordHeaderSize]
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(dst)-start-recordHeaderSize))
	binary.LittleEndian.PutUint32(hdr[4:8], checksum(hdr[0:4], dst[start+recordHeaderSize:]))
	return dst
}

// checksum returns the CRC-32C of a record's length bytes followed by its payload.
func checksum(length, payload []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, length), castagnoli, payload)
}

// decodeRecord decodes the record at the start of b and returns it with its size in bytes.
// It fails with ErrTornRecord if b ends before the record does, ErrChecksum if the record is
// damaged, and ErrBadRecord if it is well checksummed but not a valid record.
func decodeRecord(b []byte) (record, int, error) {
	if len(b) < recordHeaderSize {
		return record{}, 0, ErrTornRecord
	}
	n := binary.LittleEndian.Uint32(b[0:4])
	if n > maxRecordPayload {
		return record{}, 0, ErrBadRecord
	}
	end := recordHeaderSize + int(n)
	if len(b) < end {
		return record{}, 0, ErrTornRecord
	}
	payload := b[recordHeaderSize:end]
	if checksum(b[0:4], payload) != binary.LittleEndian.Uint32(b[4:8]) {
		return record{}, 0, ErrChecksum
	}
	r, err := decodePayload(payload)
	if err != nil {
		return record{}, 0, err
	}
	return r, end, nil
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

// recordReader reads the records of a log sequentially, never allocating more than the bytes
// the log still holds, so a damaged length cannot exhaust memory.
type recordReader struct {
	r         *bufio.Reader
	remaining int64 // bytes of the log not yet read
	buf       []byte
}

// next returns the next record and its size. It returns io.EOF at a clean end of the log, one
// of ErrTornRecord, ErrChecksum or ErrBadRecord at a damaged record, and any other error when
// the file cannot be read. The record aliases a buffer that the next call reuses.
func (rr *recordReader) next() (record, int, error) {
	if rr.remaining == 0 {
		return record{}, 0, io.EOF
	}
	if rr.remaining < recordHeaderSize {
		return record{}, 0, ErrTornRecord
	}
	var hdr [recordHeaderSize]byte
	if _, err := io.ReadFull(rr.r, hdr[:]); err != nil {
		return record{}, 0, readErr(err)
	}
	n := int64(binary.LittleEndian.Uint32(hdr[0:4]))
	if n > rr.remaining-recordHeaderSize {
		return record{}, 0, ErrTornRecord
	}
	size := recordHeaderSize + int(n)
	if cap(rr.buf) < size {
		rr.buf = make([]byte, size)
	}
	buf := rr.buf[:size]
	copy(buf, hdr[:])
	if _, err := io.ReadFull(rr.r, buf[recordHeaderSize:]); err != nil {
		return record{}, 0, readErr(err)
	}
	rr.remaining -= int64(size)
	return decodeRecord(buf)
}

// readErr maps a short read (the file shrank under us) to a torn record.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTornRecord
	}
	return err
}
