package durable

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeRecord checks that no input makes the decoder panic or read out of bounds, and
// that whatever it accepts re-encodes to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(AppendRecord(nil, []byte("payload")))
	f.Add(AppendRecord(nil, nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		p, n, err := DecodeRecord(in, 1<<16)
		if err != nil {
			if !isRecordErr(err) {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		if !bytes.Equal(AppendRecord(nil, p), in[:n]) {
			t.Fatalf("decode(%x) does not re-encode", in[:n])
		}
	})
}

// FuzzOpen checks that any file content either opens (torn tail cut, every byte accounted for
// in Recovery) or is refused with a *DamageError, and that Check agrees.
func FuzzOpen(f *testing.F) {
	f.Add(logBytes([]byte("a"), []byte("bb")))
	f.Add(append(logBytes([]byte("a")), 1, 2, 3))
	f.Add([]byte(magic + "\x05\x00\x00\x00garbage"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fsys := NewMemFS()
		file := append([]byte(magic), body...)
		if err := WriteFile(fsys, "/d/log", file); err != nil {
			t.Fatal(err)
		}
		o := opts(fsys)
		o.MaxRecord = 1 << 16
		rep, err := Check("/d/log", o)
		if err != nil {
			t.Fatal(err)
		}
		l, err := Open("/d/log", o)
		if len(rep.Damage) > 0 {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("Check found damage, Open = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Open = %v", err)
		}
		defer l.Close()
		r := l.Recovery()
		if r.Records != rep.Records || r.Size+r.Cut != int64(len(file)) || r.Cut != rep.Tail.Length {
			t.Fatalf("Recovery %+v disagrees with Check %+v", r, rep)
		}
	})
}
