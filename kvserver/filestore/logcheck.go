package filestore

import (
	"errors"
	"fmt"

	"ds440/internal/durable"
	"ds440/kvserver/internal/keyspace"
)

// How a log is judged when it is opened (internal/durable does the reading). Records are read
// in order until one fails to decode. If an intact record starts anywhere after the failing
// one, the log is damaged: data that was once written whole lies beyond the bad bytes, so
// cutting there would delete it. Opening then refuses with a *DamageError (errors.Is
// ErrLogDamaged) and leaves the file as it is; Check and Repair (kvserver -aof-check and
// -aof-repair) tell the operator what is where and write a repaired copy on request. If no
// intact record follows, the log merely ends in a torn write, as a crash in the middle of an
// append leaves: that tail is cut, and its bytes are kept beside the log (FILE.torn-OFFSET)
// rather than thrown away.
//
// An intact record is recognised by its CRC-32C over length and payload and a payload that
// decodes; bytes inside a damaged stretch that happen to pass both (a value that is itself an
// encoded record, say) make a torn tail look like damage, which errs on the side of refusing.

// Why a record of a log is bad: the Reason of a Recovery, a Damage or a DamageError.
var (
	ErrTornRecord = durable.ErrTornRecord // the log ends inside the record: a torn write
	ErrChecksum   = durable.ErrChecksum   // the record's CRC-32C does not match its bytes
	ErrBadRecord  = durable.ErrBadRecord  // well checksummed, but not a mutation filestore knows
	// ErrBadLength is the reason for a record whose length runs past intact records that follow
	// it: its length field, not the end of the log, is wrong.
	ErrBadLength = durable.ErrBadLength
)

// ErrLogDamaged is what a *DamageError matches: a bad record with intact records after it.
var ErrLogDamaged = durable.ErrDamaged

// DamageError is returned by Open when the log holds a bad record followed by intact ones:
// cutting there would delete records that were once written whole, so the file is left as it
// is. Its fields say where the damage starts (Offset), why (Reason: ErrChecksum, ErrBadRecord
// or ErrBadLength), where the first intact record after it starts (Next) and how many intact
// records, of how many bytes, follow (ValidRecords, ValidBytes). It matches ErrLogDamaged and
// its Reason with errors.Is. Check reports every damaged stretch; Repair writes a copy
// without them.
type DamageError = durable.DamageError

// Damage is one stretch of a log that holds no intact record: Length bytes from Offset, the
// record there bad for Reason (ErrTornRecord, ErrChecksum, ErrBadRecord or ErrBadLength).
type Damage = durable.Damage

// Report is what Check and Repair found in a log: its Size in bytes, its intact Records and
// their payload Bytes, the damaged stretches with intact records after them (Damage, in file
// order) and the torn or damaged end after the last intact record (Tail, Length 0 if none).
// Intact reports whether there is no damage at all.
type Report = durable.Report

// Check reads the log at path, without modifying it, and reports its intact records and
// every damaged stretch. It fails if the file cannot be read or is not a kvserver log.
func Check(path string) (Report, error) { return check(path, nil) }

// check is Check on a file system of the caller's choice (nil for the real one).
func check(path string, fsys durable.FS) (Report, error) {
	rep, err := durable.Check(path, logOptions(fsys, SyncAlways, 0))
	return rep, storeErr(err)
}

// Repair writes to dst, which must not exist, a log holding every intact record of the log
// at src in order, leaving src as it is, and returns what Check reports about src. The
// damaged stretches are left out: a record lost in one may have been a Delete or an Update, so
// the repaired log can hold values the lost records had removed; the report says where they were.
func Repair(src, dst string) (Report, error) { return repair(src, dst, nil) }

// repair is Repair on a file system of the caller's choice (nil for the real one).
func repair(src, dst string, fsys durable.FS) (Report, error) {
	rep, err := durable.Repair(src, dst, logOptions(fsys, SyncAlways, 0))
	return rep, storeErr(err)
}

// checkPayload is the durable log's judge of a checksummed payload.
func checkPayload(p []byte) error {
	_, err := keyspace.DecodePayload(p)
	return err
}

// storeErr says what an error of internal/durable means to a user of filestore: a damaged
// log gets the way out, a file that is not a log says what it is not, the rest gets the
// package's prefix.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotLog):
		return fmt.Errorf("filestore: not a kvserver log: %w", err)
	case errors.Is(err, ErrLogDamaged):
		return fmt.Errorf("filestore: %w; refusing to cut them: Check shows what is where, Repair writes a copy of the intact records (kvserver -aof-check, -aof-repair)", err)
	}
	return fmt.Errorf("filestore: %w", err)
}
