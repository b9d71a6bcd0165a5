package linearize

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestKVHistoryRoundTrip(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		h := generate(newRand(seed), genConfig{ops: 200, clients: 4, values: 3, keys: 3, unknown: 0.1})
		var buf bytes.Buffer
		if err := WriteKVHistory(&buf, h); err != nil {
			t.Fatal(err)
		}
		got, err := ReadKVHistory(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for i := range h {
			if h[i].Unknown {
				h[i].Output, h[i].Return = nil, 0
			}
		}
		if !reflect.DeepEqual(got, h) {
			t.Fatalf("seed %d: round trip changed the history", seed)
		}
	}
}

func TestReadKVHistoryErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{`,
		`{"client":1,"kind":"delete","key":"k","call":1,"return":2}`,
		`{"client":1,"kind":"read","key":"k","call":5,"return":2,"found":false}`,
		`{"client":1,"kind":"read","key":"k","call":1,"return":2}`,
		`{"client":1,"kind":"cas","key":"k","call":1,"return":2}`,
		`{"client":"one","kind":"read","key":"k","call":1}`,
		`{"kind":"write","key":"k","call":1,"return":2}` + "\n" + strings.Repeat("x", maxLine+1),
	} {
		if _, err := ReadKVHistory(strings.NewReader(in)); !errors.Is(err, ErrBadHistory) {
			t.Errorf("%.80q: %v", in, err)
		}
	}
	h, err := ReadKVHistory(strings.NewReader("\n" + `{"client":1,"kind":"write","key":"k","value":"v","call":1}` + "\n\n" +
		`{"client":2,"kind":"read","key":"k","value":"v","found":true,"call":3,"return":4}` + "\n"))
	if err != nil || len(h) != 2 || !h[0].Unknown {
		t.Fatalf("%+v %v", h, err)
	}
	if res, _ := Check(context.Background(), KVModel(), h); res.Verdict != Linearizable {
		t.Fatalf("an unknown write read later: %v", res.Verdict)
	}
}

func TestWriteKVHistoryErrors(t *testing.T) {
	t.Parallel()
	for _, op := range []Operation{
		{Input: RegisterInput{Kind: Read}, Output: RegisterOutput{}},
		{Input: KVInput{Kind: Read}, Output: RegisterOutput{}},
		{Input: KVInput{Kind: 9}, Output: KVOutput{}},
		{Input: KVInput{Kind: Write, Value: "\xff"}, Output: KVOutput{}},
	} {
		if err := WriteKVHistory(&bytes.Buffer{}, []Operation{op}); !errors.Is(err, ErrBadHistory) {
			t.Errorf("%+v: %v", op, err)
		}
	}
}

func FuzzReadKVHistory(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteKVHistory(&buf, generate(newRand(1), genConfig{ops: 6, clients: 2, values: 2, keys: 2, unknown: 0.3}))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"client":1,"kind":"cas","key":"k","expect":"a","value":"b","swapped":true,"call":1,"return":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadKVHistory(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever decodes checks without error and survives a round trip.
		if _, err := CheckTimeout(KVModel(), h, 100e6); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := WriteKVHistory(&out, h); err != nil {
			return // keys or values that are not UTF-8 are refused on the way out
		}
		h2, err := ReadKVHistory(&out)
		if err != nil || !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, h, h2)
		}
	})
}
