package kvserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// How a log is judged when it is opened. Records are read in order until one fails to decode.
// If an intact record starts anywhere after the failing one, the log is damaged: data that was
// once written whole lies beyond the bad bytes, so cutting there would delete it. Opening then
// refuses with a *DamageError (errors.Is ErrLogDamaged) and leaves the file as it is; CheckLog
// and RepairLog (kvserver -aof-check and -aof-repair) tell the operator what is where and
// write a repaired copy on request. If no intact record follows, the log merely ends in a torn
// write, as a crash in the middle of an append leaves: that tail is cut, and its bytes are
// kept beside the log (FILE.torn-OFFSET) rather than thrown away.
//
// An intact record is recognised by its CRC-32C over length and payload and a payload that
// decodes; bytes inside a damaged stretch that happen to pass both (a value that is itself an
// encoded record, say) make a torn tail look like damage, which errs on the side of refusing.

// Errors describing damage found in a log, besides ErrTornRecord, ErrChecksum and ErrBadRecord.
var (
	// ErrLogDamaged is what a *DamageError matches: a bad record with intact records after it.
	ErrLogDamaged = errors.New("kvserver: log damaged before its end")
	// ErrBadLength is the reason for a record whose length runs past intact records that follow
	// it, or past any record a log may hold: its length field, not the end of the log, is wrong.
	ErrBadLength = errors.New("kvserver: log record length is damaged")
)

// DamageError is returned by OpenFileStore (and NewFileStore) when the log holds a bad record
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
	return fmt.Sprintf("kvserver: log %s damaged at offset %d (%v); %d intact records (%d bytes) follow from offset %d; "+
		"refusing to start rather than cut them: inspect with kvserver -aof-check, write a repaired copy with -aof-repair",
		e.Path, e.Offset, e.Reason, e.ValidRecords, e.ValidBytes, e.Next)
}

// Unwrap lets errors.Is match ErrLogDamaged and the reason.
func (e *DamageError) Unwrap() []error { return []error{ErrLogDamaged, e.Reason} }

// LogDamage is one stretch of a log that holds no intact record.
type LogDamage struct {
	Offset int64
	Length int64
	Reason error // why the record at Offset is bad: ErrTornRecord, ErrChecksum, ErrBadRecord, ErrBadLength
}

// LogReport is what CheckLog found in a log.
type LogReport struct {
	Size    int64       // bytes in the file
	Records int         // intact records
	Bytes   int64       // bytes of intact records, header excluded
	Damage  []LogDamage // damaged stretches with intact records after them, in file order
	Tail    LogDamage   // the torn or damaged end of the log, after the last intact record; Length 0 if none
}

// Intact reports whether the log holds nothing but its header and intact records.
func (r LogReport) Intact() bool { return len(r.Damage) == 0 && r.Tail.Length == 0 }

// CheckLog reads the log at path, without modifying it, and reports its intact records and
// every damaged stretch. It fails if the file cannot be read or is not a kvserver log.
func CheckLog(path string) (LogReport, error) {
	return checkLog(path, nil)
}

// RepairLog writes to dst, which must not exist, a log holding every intact record of the log
// at src in order, leaving src as it is, and returns what CheckLog reports about src. The
// damaged stretches are left out: a record lost in one may have been a Delete or an Update, so
// the repaired log can hold values the lost records had removed; the report says where they were.
func RepairLog(src, dst string) (LogReport, error) {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return LogReport{}, fmt.Errorf("kvserver: create repaired log: %w", err)
	}
	w := bufio.NewWriterSize(out, 256<<10)
	w.WriteString(logMagic)
	var enc []byte
	rep, err := checkLog(src, func(r record) {
		enc = r.appendTo(enc[:0])
		w.Write(enc)
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(dst))
	}
	if err != nil {
		os.Remove(dst)
		return rep, fmt.Errorf("kvserver: repair log: %w", err)
	}
	return rep, nil
}

func checkLog(path string, each func(record)) (LogReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return LogReport{}, fmt.Errorf("kvserver: open log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return LogReport{}, fmt.Errorf("kvserver: stat log: %w", err)
	}
	hdr := make([]byte, min(st.Size(), int64(len(logMagic))))
	if _, err := io.ReadFull(f, hdr); err != nil {
		return LogReport{}, fmt.Errorf("kvserver: read log: %w", err)
	}
	if string(hdr) != logMagic[:len(hdr)] {
		return LogReport{}, fmt.Errorf("%w: %s", ErrNotLog, path)
	}
	rep := LogReport{Size: st.Size()}
	if int64(len(hdr)) < int64(len(logMagic)) {
		return rep, nil
	}
	err = scanLog(f, int64(len(logMagic)), rep.Size, &rep, each)
	return rep, err
}

// scanLog reads the records of r from offset from to size, calling each (if not nil) with every
// intact record, and adds what it finds to rep. A damaged stretch is skipped by searching for
// the next intact record.
func scanLog(r io.ReaderAt, from, size int64, rep *LogReport, each func(record)) error {
	pos := from
	for pos < size {
		rr := recordReader{r: bufio.NewReaderSize(io.NewSectionReader(r, pos, size-pos), 256<<10), remaining: size - pos}
		for {
			rec, n, err := rr.next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				if !isRecordErr(err) {
					return fmt.Errorf("kvserver: read log: %w", err)
				}
				next, found, serr := resync(r, pos+1, size)
				if serr != nil {
					return serr
				}
				if !found {
					rep.Tail = LogDamage{Offset: pos, Length: size - pos, Reason: err}
					return nil
				}
				rep.Damage = append(rep.Damage, LogDamage{Offset: pos, Length: next - pos, Reason: damageReason(err)})
				pos = next
				break
			}
			if each != nil {
				each(rec)
			}
			rep.Records++
			rep.Bytes += int64(n) - recordHeaderSize
			pos += int64(n)
		}
	}
	return nil
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

// resync returns the offset of the first intact record that starts at or after from, and
// whether there is one. It reads the log a window at a time, so a long damaged stretch costs
// one read per window, not per byte.
func resync(r io.ReaderAt, from, size int64) (int64, bool, error) {
	const window = 1 << 20
	buf := make([]byte, window+recordHeaderSize)
	var long []byte
	for base := from; base+recordHeaderSize <= size; base += window {
		n := min(int64(len(buf)), size-base)
		if _, err := r.ReadAt(buf[:n], base); err != nil && err != io.EOF {
			return 0, false, fmt.Errorf("kvserver: read log: %w", err)
		}
		w := buf[:n]
		for i := int64(0); i < window && i+recordHeaderSize <= n; i++ {
			length := int64(binary.LittleEndian.Uint32(w[i:]))
			end := i + recordHeaderSize + length
			if length > maxRecordPayload || base+end > size {
				continue
			}
			cand := w[i:min(end, n)]
			if end > n {
				if int64(cap(long)) < end-i {
					long = make([]byte, end-i)
				}
				cand = long[:end-i]
				if _, err := r.ReadAt(cand, base+i); err != nil && err != io.EOF {
					return 0, false, fmt.Errorf("kvserver: read log: %w", err)
				}
			}
			if _, _, err := decodeRecord(cand); err == nil {
				return base + i, true, nil
			}
		}
	}
	return 0, false, nil
}

// keepTorn copies the bytes of f from off to size into a new file beside path, named
// path.torn-OFFSET (with a further suffix if that exists), fsyncs it and returns its name.
func keepTorn(f *os.File, path string, off, size int64) (string, error) {
	name := fmt.Sprintf("%s.torn-%d", path, off)
	var out *os.File
	var err error
	for i := 1; ; i++ {
		out, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			break
		}
		name = fmt.Sprintf("%s.torn-%d.%d", path, off, i)
	}
	if err != nil {
		return "", fmt.Errorf("kvserver: keep torn log tail: %w", err)
	}
	_, err = io.Copy(out, io.NewSectionReader(f, off, size-off))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("kvserver: keep torn log tail: %w", err)
	}
	return name, nil
}
