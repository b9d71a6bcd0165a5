package durable

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

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
	Bytes   int64    // bytes of intact records' payloads
	Damage  []Damage // damaged stretches with intact records after them, in file order
	Tail    Damage   // the torn or damaged end of the log, after the last intact record; Length 0 if none
}

// Intact reports whether the log holds nothing but its header and intact records.
func (r Report) Intact() bool { return len(r.Damage) == 0 && r.Tail.Length == 0 }

// Check reads the log at path without modifying it (nor locking it) and reports its intact
// records and every damaged stretch. It fails if the file cannot be read or does not start
// with opts.Magic (ErrNotLog).
func Check(path string, opts Options) (Report, error) {
	return check(path, opts, nil)
}

// Repair writes to dst, which must not exist, a log holding every intact record of the log at
// src in order, leaving src as it is, and returns what Check reports about src. The new file
// is fsynced and its directory too before Repair returns.
func Repair(src, dst string, opts Options) (Report, error) {
	fsys := opts.FS
	if fsys == nil {
		fsys = OS
	}
	out, err := fsys.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return Report{}, fmt.Errorf("durable: create repaired log: %w", err)
	}
	buf := []byte(opts.Magic)
	var off int64
	var werr error
	flush := func() {
		if werr == nil && len(buf) > 0 {
			var n int
			n, werr = out.WriteAt(buf, off)
			off += int64(n)
		}
		buf = buf[:0]
	}
	rep, err := check(src, opts, func(p []byte) {
		buf = AppendRecord(buf, p)
		if len(buf) >= 256<<10 {
			flush()
		}
	})
	flush()
	err = errors.Join(err, werr)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.SyncDir(filepath.Dir(dst))
	}
	if err != nil {
		fsys.Remove(dst)
		return rep, fmt.Errorf("durable: repair log: %w", err)
	}
	return rep, nil
}

func check(path string, opts Options, each func([]byte)) (Report, error) {
	fsys := opts.FS
	if fsys == nil {
		fsys = OS
	}
	if opts.MaxRecord <= 0 {
		opts.MaxRecord = DefaultMaxRecord
	}
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return Report{}, fmt.Errorf("durable: open log: %w", err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return Report{}, fmt.Errorf("durable: stat log: %w", err)
	}
	hdr := make([]byte, min(size, int64(len(opts.Magic))))
	if _, err := f.ReadAt(hdr, 0); err != nil && err != io.EOF {
		return Report{}, fmt.Errorf("durable: read log: %w", err)
	}
	if string(hdr) != opts.Magic[:len(hdr)] {
		return Report{}, fmt.Errorf("%w: %s", ErrNotLog, path)
	}
	rep := Report{Size: size}
	if int64(len(hdr)) < int64(len(opts.Magic)) {
		return rep, nil
	}
	err = scan(f, int64(len(opts.Magic)), size, opts, &rep, each)
	return rep, err
}

// scan reads the records of r from offset from to size, calling each (if not nil) with every
// intact payload, and adds what it finds to rep. A damaged stretch is skipped by searching for
// the next intact record.
func scan(r io.ReaderAt, from, size int64, opts Options, rep *Report, each func([]byte)) error {
	pos := from
	for pos < size {
		rr := newReader(r, pos, size, opts)
		for {
			p, err := rr.next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				if !isRecordErr(err) {
					return fmt.Errorf("durable: read log: %w", err)
				}
				pos = rr.pos
				next, found, serr := resync(r, pos+1, size, opts)
				if serr != nil {
					return serr
				}
				if !found {
					rep.Tail = Damage{Offset: pos, Length: size - pos, Reason: err}
					return nil
				}
				rep.Damage = append(rep.Damage, Damage{Offset: pos, Length: next - pos, Reason: damageReason(err)})
				pos = next
				break
			}
			if each != nil {
				each(p)
			}
			rep.Records++
			rep.Bytes += int64(len(p))
		}
	}
	return nil
}

// resync returns the offset of the first intact record that starts at or after from, and
// whether there is one. It reads the log a window at a time, so a long damaged stretch costs
// one read per window, not per byte.
func resync(r io.ReaderAt, from, size int64, opts Options) (int64, bool, error) {
	const window = 1 << 20
	if opts.MaxRecord <= 0 {
		opts.MaxRecord = DefaultMaxRecord
	}
	buf := make([]byte, max(0, min(window+HeaderSize, size-from))) // no more than the rest of the log
	var long []byte
	for base := from; base+HeaderSize <= size; base += window {
		n := min(int64(len(buf)), size-base)
		if _, err := r.ReadAt(buf[:n], base); err != nil && err != io.EOF {
			return 0, false, fmt.Errorf("durable: read log: %w", err)
		}
		w := buf[:n]
		for i := int64(0); i < window && i+HeaderSize <= n; i++ {
			length := int64(binary.LittleEndian.Uint32(w[i:]))
			end := i + HeaderSize + length
			if length > int64(opts.MaxRecord) || base+end > size {
				continue
			}
			cand := w[i:min(end, n)]
			if end > n {
				if int64(cap(long)) < end-i {
					long = make([]byte, end-i)
				}
				cand = long[:end-i]
				if _, err := r.ReadAt(cand, base+i); err != nil && err != io.EOF {
					return 0, false, fmt.Errorf("durable: read log: %w", err)
				}
			}
			if _, _, err := decode(cand, opts); err == nil {
				return base + i, true, nil
			}
		}
	}
	return 0, false, nil
}

// keepTorn copies the bytes of f from off to size into a new file beside path, named
// path.torn-OFFSET (with a further suffix if that exists), fsyncs it and returns its name.
func keepTorn(fsys FS, f File, path string, off, size int64) (string, error) {
	name := fmt.Sprintf("%s.torn-%d", path, off)
	var out File
	var err error
	for i := 1; ; i++ {
		out, err = fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			break
		}
		name = fmt.Sprintf("%s.torn-%d.%d", path, off, i)
	}
	if err != nil {
		return "", fmt.Errorf("durable: keep torn log tail: %w", err)
	}
	err = copyRange(out, 0, f, off, size, nil)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		fsys.Remove(name)
		return "", fmt.Errorf("durable: keep torn log tail: %w", err)
	}
	return name, nil
}

// copyRange copies the bytes of src from from to to into dst at offset at, through buf, or
// a buffer of its own if buf is empty.
func copyRange(dst File, at int64, src io.ReaderAt, from, to int64, buf []byte) error {
	if len(buf) == 0 {
		buf = make([]byte, min(to-from, 1<<20))
	}
	for from < to {
		n := min(int64(len(buf)), to-from)
		if _, err := src.ReadAt(buf[:n], from); err != nil && err != io.EOF {
			return err
		}
		if _, err := dst.WriteAt(buf[:n], at); err != nil {
			return err
		}
		from += n
		at += n
	}
	return nil
}
