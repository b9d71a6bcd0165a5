package actor

import (
	"bytes"
	"encoding/gob"
	"testing"
)

func TestCopyMessageSizeIsTheValueAlone(t *testing.T) {
	t.Parallel()
	// The size must not depend on whether the pooled copier described the type before.
	first, n1, err := copyMessage(payload{List: []int{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	_, n2, _ := copyMessage(payload{List: []int{1, 2}})
	if n1 != n2 || n1 <= 0 {
		t.Fatalf("sizes %d then %d, want equal and positive", n1, n2)
	}
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	enc.Encode(first)
	buf.Reset()
	enc.Encode(first) // the type is described: only the value is written
	if buf.Len() != n1 {
		t.Fatalf("size %d, a gob stream writes %d for the value", n1, buf.Len())
	}
}

func TestGobUint(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    []byte
		v     uint64
		width int
	}{
		{nil, 0, 0},
		{[]byte{0}, 0, 1},
		{[]byte{0x7f}, 127, 1},
		{[]byte{0xff, 0x80}, 128, 2},
		{[]byte{0xfe, 0x01, 0x00}, 256, 3},
		{[]byte{0xfe, 0x01}, 0, 0}, // short
		{[]byte{0xf0, 0x01}, 0, 0}, // 16 bytes: too wide
		{[]byte{0x80, 0x01}, 0, 0}, // -128 bytes
		{[]byte{0xf8, 1, 2, 3, 4, 5, 6, 7, 8}, 0x0102030405060708, 9},
	}
	for _, c := range cases {
		v, w := gobUint(c.in)
		if v != c.v || w != c.width {
			t.Errorf("gobUint(%x) = %d, %d; want %d, %d", c.in, v, w, c.v, c.width)
		}
	}
}

func FuzzLastMessageLen(f *testing.F) {
	f.Add([]byte{3, 1, 2, 3, 1, 9})
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if n := lastMessageLen(b); n < 0 || n > len(b) {
			t.Fatalf("lastMessageLen = %d for %d bytes", n, len(b))
		}
	})
}

type nestedOnce struct{ V []string }

func TestCopyMessageSizeWithInterfacesIsStable(t *testing.T) {
	t.Parallel()
	gob.Register(nestedOnce{})
	// The first copy describes nestedOnce inside the value; the size must not include that.
	m := forward{Msg: nestedOnce{V: []string{"a", "b"}}}
	_, first, err := copyMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, n, _ := copyMessage(m); n != first {
			t.Fatalf("size %d, first copy counted %d", n, first)
		}
	}
}
