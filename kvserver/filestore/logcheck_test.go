package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"ds440/internal/durable"

	"ds440/kvserver/internal/keyspace"
)

// damageLog is a small log whose every record changes what a replay holds, so that losing any
// one of them shows.
var damageLog = []mutation{
	{"put", "k", "one", ""}, {"put", "j", "two", ""}, {"delete", "j", "", ""},
	{"put", "j", "three", ""}, {"update", "k", "one", "uno"}, {"clear", "", "", ""},
	{"put", "k", "four", ""}, {"prepend", "k", "five", ""}, {"put", "x", "the last one", ""},
}

// recordStarts returns where each record starts, given where each ends.
func recordStarts(ends []int64) []int64 {
	starts := []int64{int64(len(logMagic))}
	return append(starts, ends[:len(ends)-1]...)
}

// damageFS returns the file systems on which case i of a damage sweep runs: every case in
// memory, where it costs no fsync, and every eighth also on the real file system, through
// Open, Check and Repair themselves.
func damageFS(i int) []durable.FS {
	if i%8 == 0 {
		return []durable.FS{durable.NewMemFS(), durable.OS}
	}
	return []durable.FS{durable.NewMemFS()}
}

// checkDamaged opens the log bad, derived from the log of muts by changing the bytes of the
// records whose indexes are in lost, and checks that the store does what a careful database
// does: a torn end (no intact record after the first lost one) is cut and kept beside the log;
// anything else is refused with the file untouched, and Repair recovers every other record.
// It does so on each file system of fss (durable.OS: the real one).
func checkDamaged(t *testing.T, fss []durable.FS, name string, bad []byte, ends []int64, muts []mutation, lost []int, reasons ...error) {
	t.Helper()
	for _, fsys := range fss {
		checkDamagedOn(t, fsys, name, bad, ends, muts, lost, reasons...)
	}
}

func checkDamagedOn(t *testing.T, fsys durable.FS, name string, bad []byte, ends []int64, muts []mutation, lost []int, reasons ...error) {
	t.Helper()
	starts := recordStarts(ends)
	path := "/data/log"
	if fsys == durable.OS {
		path = filepath.Join(t.TempDir(), "log")
	}
	if err := durable.WriteFile(fsys, path, bad); err != nil {
		t.Fatal(err)
	}
	first := lost[0]
	torn := lost[len(lost)-1] == len(muts)-1
	f, err := open(path, SyncAlways, Options{}, fsys)
	if torn {
		if err != nil {
			t.Fatalf("%s: a log whose end is bad was refused: %v", name, err)
		}
		defer f.Close()
		requireSame(t, f, memoryAfter(muts[:first]), muts)
		r := f.Recovery()
		if r.Records != first || r.Size != starts[first] || r.Cut != int64(len(bad))-starts[first] || !matchesAny(r.Reason, reasons) {
			t.Fatalf("%s: Recovery() = %+v, want %d records, %d bytes kept, reason one of %v", name, r, first, starts[first], reasons)
		}
		kept, err := durable.ReadFile(fsys, r.TornPath)
		if err != nil || !bytes.Equal(kept, bad[starts[first]:]) {
			t.Fatalf("%s: the cut bytes were not kept in %q (%v)", name, r.TornPath, err)
		}
		return
	}
	var de *DamageError
	if !errors.As(err, &de) || !errors.Is(err, ErrLogDamaged) {
		t.Fatalf("%s: Open = %v, want a DamageError", name, err)
	}
	if err == nil {
		f.Close()
	}
	intactAfter := 0
	for i := first + 1; i < len(muts); i++ {
		if !slices.Contains(lost, i) {
			intactAfter++
		}
	}
	next := first + 1
	for slices.Contains(lost, next) {
		next++
	}
	if de.Offset != starts[first] || de.Next != starts[next] || de.ValidRecords != intactAfter || !matchesAny(de.Reason, reasons) {
		t.Fatalf("%s: %+v, want offset %d, next %d, %d intact records after, reason one of %v",
			name, de, starts[first], starts[next], intactAfter, reasons)
	}
	if after, _ := durable.ReadFile(fsys, path); !bytes.Equal(after, bad) {
		t.Fatalf("%s: a refused log was modified", name)
	}
	rep, err := check(path, fsys)
	if err != nil || rep.Records != len(muts)-len(lost) || len(rep.Damage) == 0 || rep.Damage[0].Offset != starts[first] || rep.Intact() {
		t.Fatalf("%s: Check = %+v, %v", name, rep, err)
	}
	repaired := path + ".repaired"
	if _, err := repair(path, repaired, fsys); err != nil {
		t.Fatalf("%s: Repair: %v", name, err)
	}
	if _, err := repair(path, repaired, fsys); err == nil {
		t.Fatalf("%s: Repair overwrote an existing file", name)
	}
	if after, _ := durable.ReadFile(fsys, path); !bytes.Equal(after, bad) {
		t.Fatalf("%s: Repair modified the original", name)
	}
	var kept []mutation
	for i, m := range muts {
		if !slices.Contains(lost, i) {
			kept = append(kept, m)
		}
	}
	g, err := open(repaired, SyncAlways, Options{}, fsys)
	if err != nil {
		t.Fatalf("%s: opening the repaired log: %v", name, err)
	}
	defer g.Close()
	requireSame(t, g, memoryAfter(kept), muts)
	if r := g.Recovery(); r.Records != len(kept) || r.Cut != 0 {
		t.Fatalf("%s: repaired log Recovery() = %+v", name, r)
	}
}

func matchesAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// recordsIn returns the indexes of the records that overlap bytes [lo, hi).
func recordsIn(ends []int64, lo, hi int64) []int {
	var out []int
	for i, start := range recordStarts(ends) {
		if start < hi && ends[i] > lo {
			out = append(out, i)
		}
	}
	return out
}

func TestFileStoreFlippedBit(t *testing.T) {
	t.Parallel()
	data, ends := writeLog(t, damageLog)
	starts := recordStarts(ends)
	for pos := len(logMagic); pos < len(data); pos++ {
		for _, mask := range []byte{0x01, 0x80} {
			bad := bytes.Clone(data)
			bad[pos] ^= mask
			lost := recordsIn(ends, int64(pos), int64(pos)+1)
			// A flip in the payload or checksum is a checksum mismatch; one in the length may
			// also make the record run past the end of the log (torn) or past the records
			// after it (a bad length).
			reasons := []error{ErrChecksum}
			if int64(pos) < starts[lost[0]]+4 {
				reasons = append(reasons, ErrBadLength, ErrTornRecord, ErrBadRecord)
			}
			checkDamaged(t, damageFS(pos), fmt.Sprintf("flip %#x at %d", mask, pos), bad, ends, damageLog, lost, reasons...)
		}
	}
}

func TestFileStoreZeroedBlock(t *testing.T) {
	t.Parallel()
	data, ends := writeLog(t, damageLog)
	for _, size := range []int{1, 8, 16, 40} {
		for lo := len(logMagic); lo+size <= len(data); lo++ {
			bad := bytes.Clone(data)
			if bytes.Count(bad[lo:lo+size], []byte{0}) == size {
				continue // zeroing changes nothing
			}
			clear(bad[lo : lo+size])
			// Only the records whose bytes actually changed are lost.
			var lost []int
			for _, i := range recordsIn(ends, int64(lo), int64(lo+size)) {
				start := recordStarts(ends)[i]
				if !bytes.Equal(bad[start:ends[i]], data[start:ends[i]]) {
					lost = append(lost, i)
				}
			}
			checkDamaged(t, damageFS(lo), fmt.Sprintf("%d zero bytes at %d", size, lo), bad, ends, damageLog, lost,
				ErrChecksum, ErrBadLength, ErrTornRecord, ErrBadRecord)
		}
	}
}

func TestFileStoreCutEverywhere(t *testing.T) {
	t.Parallel()
	data, ends := writeLog(t, damageLog)
	for cut := len(logMagic); cut < len(data); cut++ {
		lost := recordsIn(ends, int64(cut), int64(len(data)))
		name := fmt.Sprintf("cut at %d", cut)
		if recordStarts(ends)[lost[0]] == int64(cut) {
			// A cut between records leaves an intact, shorter log.
			path := filepath.Join(t.TempDir(), "log")
			if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			f := openTest(t, path, SyncAlways, Options{})
			requireSame(t, f, memoryAfter(damageLog[:lost[0]]), damageLog)
			if r := f.Recovery(); r.Cut != 0 || r.Records != lost[0] {
				t.Fatalf("%s: Recovery() = %+v", name, r)
			}
			continue
		}
		checkDamaged(t, damageFS(cut), name, data[:cut], ends, damageLog, lost, ErrTornRecord)
	}
}

func TestDamageErrorMessage(t *testing.T) {
	t.Parallel()
	data, ends := writeLog(t, damageLog)
	bad := bytes.Clone(data)
	bad[ends[1]+10] ^= 0x10
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, SyncAlways, Options{})
	want := fmt.Sprintf("filestore: durable: log %s damaged at offset %d (durable: log record checksum mismatch); %d intact records (%d bytes) follow from offset %d",
		path, ends[1], len(damageLog)-3, ends[len(ends)-1]-ends[2], ends[2])
	if err == nil || !bytes.HasPrefix([]byte(err.Error()), []byte(want)) || !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v\nwant it to start with %s", err, want)
	}
}

// FuzzCheck checks that any file content is accounted for: every byte after the header is
// in an intact record or a damaged stretch, and the scan never fails on bad content.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(logMagic + string(keyspace.Record{Op: keyspace.OpPut, Key: "k", A: []byte("v")}.AppendTo(nil))))
	f.Add([]byte(logMagic + "\x00\x00\x00\x00garbage" + string(keyspace.Record{Op: keyspace.OpClear}.AppendTo(nil))))
	f.Fuzz(func(t *testing.T, body []byte) {
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, append([]byte(logMagic), body...), 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := Check(path)
		if err != nil {
			t.Fatal(err)
		}
		total := int64(len(logMagic)) + rep.Bytes + int64(rep.Records)*recordHeaderSize + rep.Tail.Length
		for _, d := range rep.Damage {
			total += d.Length
		}
		if total != rep.Size {
			t.Fatalf("report %+v accounts for %d of %d bytes", rep, total, rep.Size)
		}
	})
}
