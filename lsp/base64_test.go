package lsp

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// TestAppendBase64 checks the encoder against encoding/base64 for every length up to 100
// (each tail and step boundary) with bytes covering the whole alphabet, after a prefix.
func TestAppendBase64(t *testing.T) {
	t.Parallel()
	src := make([]byte, 100)
	for i := range src {
		src[i] = byte(i*37 + 11)
	}
	for n := range len(src) + 1 {
		for _, p := range [][]byte{nil, []byte("prefix:")} {
			want := base64.StdEncoding.AppendEncode(bytes.Clone(p), src[:n])
			if got := appendBase64(bytes.Clone(p), src[:n]); !bytes.Equal(got, want) {
				t.Fatalf("%d bytes: %q, want %q", n, got, want)
			}
		}
	}
}

func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte("hello, world"))
	f.Add([]byte{0xff, 0xfe, 0xfd, 0, 1, 2, 3})
	f.Fuzz(func(t *testing.T, src []byte) {
		if got, want := appendBase64(nil, src), base64.StdEncoding.AppendEncode(nil, src); !bytes.Equal(got, want) {
			t.Fatalf("%q: %q, want %q", src, got, want)
		}
	})
}

func BenchmarkBase64Encode1K(b *testing.B) {
	src := make([]byte, 1024)
	dst := make([]byte, 0, 2048)
	b.SetBytes(1024)
	b.Run("ours", func(b *testing.B) {
		for b.Loop() {
			dst = appendBase64(dst[:0], src)
		}
	})
	b.Run("encoding-base64", func(b *testing.B) {
		for b.Loop() {
			dst = base64.StdEncoding.AppendEncode(dst[:0], src)
		}
	})
}
