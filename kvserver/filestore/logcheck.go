package filestore

import (
	"errors"
	"fmt"

	"ds440/internal/durable"
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

// Errors describing damage found in a log, besides ErrTornRecord, ErrChecksum and ErrBadRecord.
var (
	// ErrLogDamaged is what a *DamageError matches: a bad record with intact records after it.
	ErrLogDamaged = errors.New("filestore: log damaged before its end")
	// ErrBadLength is the reason for a record whose length runs past intact records that follow
	// it, or past any record a log may hold: its length field, not the end of the log, is wrong.
	ErrBadLength = errors.New("filestore: log record length is damaged")
)

// DamageError is returned by Open when the log holds a bad record
// followed by intact ones. The file has not been modified. It matches ErrLogDamaged and its
// Reason with errors.Is.
type DamageError struct {
	Path         string
	Offset       int64 // where the first bad record starts
	Reason       error // ErrChecksum, ErrBadRecord or ErrBadLength
	Next         int64 // where the first intact record after it starts
	ValidRecords int   // intact records from Next to the end of the log
	ValidBytes   int64 // their size in bytes
}

// Error says where the log is damaged, why, and how much intact data follows.
func (e *DamageError) Error() string {
	return fmt.Sprintf("filestore: log %s damaged at offset %d (%v); %d intact records (%d bytes) follow from offset %d; "+
		"refusing to start rather than cut them: inspect with kvserver -aof-check, write a repaired copy with -aof-repair",
		e.Path, e.Offset, e.Reason, e.ValidRecords, e.ValidBytes, e.Next)
}

// Unwrap lets errors.Is match ErrLogDamaged and the reason.
func (e *DamageError) Unwrap() []error { return []error{ErrLogDamaged, e.Reason} }

// Damage is one stretch of a log that holds no intact record.
type Damage struct {
	Offset int64
	Length int64
	Reason error // why the record at Offset is bad: ErrTornRecord, ErrChecksum, ErrBadRecord, ErrBadLength
}

// Report is what Check found in a log.
type Report struct {
	Size    int64    // bytes in the file
	Records int      // intact records
	Bytes   int64    // bytes of intact records, header excluded
	Damage  []Damage // damaged stretches with intact records after them, in file order
	Tail    Damage   // the torn or damaged end of the log, after the last intact record; Length 0 if none
}

// Intact reports whether the log holds nothing but its header and intact records.
func (r Report) Intact() bool { return len(r.Damage) == 0 && r.Tail.Length == 0 }

// Check reads the log at path, without modifying it, and reports its intact records and
// every damaged stretch. It fails if the file cannot be read or is not a kvserver log.
func Check(path string) (Report, error) { return check(path, nil) }

// check is Check on a file system of the caller's choice (nil for the real one).
func check(path string, fsys durable.FS) (Report, error) {
	rep, err := durable.Check(path, logOptions(fsys, SyncAlways, 0))
	return reportOf(rep), storeErr(err)
}

// Repair writes to dst, which must not exist, a log holding every intact record of the log
// at src in order, leaving src as it is, and returns what Check reports about src. The
// damaged stretches are left out: a record lost in one may have been a Delete or an Update, so
// the repaired log can hold values the lost records had removed; the report says where they were.
func Repair(src, dst string) (Report, error) { return repair(src, dst, nil) }

// repair is Repair on a file system of the caller's choice (nil for the real one).
func repair(src, dst string, fsys durable.FS) (Report, error) {
	rep, err := durable.Repair(src, dst, logOptions(fsys, SyncAlways, 0))
	return reportOf(rep), storeErr(err)
}

// checkPayload is the durable log's judge of a checksummed payload.
func checkPayload(p []byte) error {
	_, err := decodePayload(p)
	return err
}

// reasonOf maps internal/durable's reasons for a bad record to kvserver's.
func reasonOf(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, durable.ErrTornRecord):
		return ErrTornRecord
	case errors.Is(err, durable.ErrChecksum):
		return ErrChecksum
	case errors.Is(err, durable.ErrBadRecord):
		return ErrBadRecord
	case errors.Is(err, durable.ErrBadLength):
		return ErrBadLength
	}
	return err
}

// storeErr maps an error of internal/durable to what kvserver promises its callers.
func storeErr(err error) error {
	var de *durable.DamageError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		return &DamageError{Path: de.Path, Offset: de.Offset, Reason: reasonOf(de.Reason), Next: de.Next,
			ValidRecords: de.ValidRecords, ValidBytes: de.ValidBytes}
	case errors.Is(err, durable.ErrNotLog):
		return fmt.Errorf("%w (%v)", ErrNotLog, err)
	case errors.Is(err, durable.ErrLocked):
		return fmt.Errorf("%w (%v)", ErrLogLocked, err)
	case errors.Is(err, durable.ErrClosed):
		return ErrClosed
	}
	return fmt.Errorf("filestore: %w", err)
}

func reportOf(r durable.Report) Report {
	out := Report{Size: r.Size, Records: r.Records, Bytes: r.Bytes, Tail: damageOf(r.Tail)}
	for _, d := range r.Damage {
		out.Damage = append(out.Damage, damageOf(d))
	}
	return out
}

func damageOf(d durable.Damage) Damage {
	return Damage{Offset: d.Offset, Length: d.Length, Reason: reasonOf(d.Reason)}
}
