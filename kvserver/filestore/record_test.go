package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"ds440/internal/durable"

	"ds440/kvserver/internal/keyspace"
)

func TestRecordRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xff, 0, '\n', ':'}, 100)
	for _, r := range []keyspace.Record{
		{Op: keyspace.OpPut, Key: "k", A: []byte("v")},
		{Op: keyspace.OpPut, Key: "k", A: []byte{}},
		{Op: keyspace.OpPut, Key: "", A: big},
		{Op: keyspace.OpPrepend, Key: "a:b", A: []byte("x\r\n")},
		{Op: keyspace.OpDelete, Key: "k"},
		{Op: keyspace.OpUpdate, Key: "k", A: []byte("old"), B: []byte("new")},
		{Op: keyspace.OpUpdate, Key: "k", A: []byte{}, B: big},
		{Op: keyspace.OpClear},
	} {
		enc := r.AppendTo([]byte("prefix"))[len("prefix"):]
		if got, want := len(enc), recordHeaderSize+r.PayloadSize(); got != want {
			t.Errorf("%v: encoded %d bytes, payloadSize says %d", r.Op, got, want)
		}
		got, n, err := decodeRecord(append(enc, "trailing"...))
		if err != nil || n != len(enc) {
			t.Fatalf("%v: decode = %d, %v; want %d, nil", r.Op, n, err, len(enc))
		}
		if got.Op != r.Op || got.Key != r.Key || !bytes.Equal(got.A, r.A) || !bytes.Equal(got.B, r.B) {
			t.Errorf("decode(encode(%+v)) = %+v", r, got)
		}
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	good := keyspace.Record{Op: keyspace.OpUpdate, Key: "key", A: []byte("old"), B: []byte("new")}.AppendTo(nil)
	// reseal recomputes the checksum, so the payload's own validity is what is tested.
	reseal := func(payload ...byte) []byte { return durable.AppendRecord(nil, payload) }
	flipped := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x20
		return b
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTornRecord},
		{"short header", good[:7], ErrTornRecord},
		{"short payload", good[:len(good)-1], ErrTornRecord},
		{"length flipped", flipped(0), ErrTornRecord}, // says more bytes than there are
		{"length shrunk", append([]byte{byte(len(good) - 9)}, good[1:]...), ErrChecksum},
		{"checksum flipped", flipped(5), ErrChecksum},
		{"payload flipped", flipped(len(good) - 2), ErrChecksum},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, ErrBadRecord},
		{"empty payload", reseal(), ErrBadRecord},
		{"unknown op", reseal(99, 1, 'k'), ErrBadRecord},
		{"op zero", reseal(0), ErrBadRecord},
		{"field past end", reseal(byte(keyspace.OpDelete), 5, 'k'), ErrBadRecord},
		{"missing field", reseal(byte(keyspace.OpPut), 1, 'k'), ErrBadRecord},
		{"trailing bytes", reseal(byte(keyspace.OpDelete), 1, 'k', 'x'), ErrBadRecord},
		{"clear with a field", reseal(byte(keyspace.OpClear), 0), ErrBadRecord},
		{"overlong varint", reseal(byte(keyspace.OpDelete), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), ErrBadRecord},
	} {
		if _, _, err := decodeRecord(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// FuzzDecodeRecord checks that no input makes the decoder panic or read out of bounds, and
// that whatever it accepts re-encodes to exactly the bytes it consumed.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(keyspace.Record{Op: keyspace.OpPut, Key: "k", A: []byte("v")}.AppendTo(nil))
	f.Add(keyspace.Record{Op: keyspace.OpUpdate, Key: "k", A: []byte("o"), B: []byte("n")}.AppendTo(nil))
	f.Add(keyspace.Record{Op: keyspace.OpClear}.AppendTo(nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, in []byte) {
		r, n, err := decodeRecord(in)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with size %d", err, n)
			}
			return
		}
		if n < recordHeaderSize || n > len(in) {
			t.Fatalf("size %d out of range for %d bytes", n, len(in))
		}
		if again := r.AppendTo(nil); !bytes.Equal(again, in[:n]) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, in[:n])
		}
	})
}

// decodeRecord decodes the framed record at the start of b as opening a log does, and returns
// it with its size in bytes: ErrTornRecord if b ends before the record does, ErrChecksum if it
// is damaged, ErrBadRecord if it is well checksummed but not a mutation.
func decodeRecord(b []byte) (keyspace.Record, int, error) {
	p, n, err := durable.DecodeRecord(b, maxRecordPayload)
	if err != nil {
		return keyspace.Record{}, 0, err
	}
	r, err := keyspace.DecodePayload(p)
	if err != nil {
		return keyspace.Record{}, 0, fmt.Errorf("%w: %v", ErrBadRecord, err)
	}
	return r, n, nil
}
