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

// TestAppendDecodeBase64 checks the decoder against encoding/base64 on the encoding of every
// length up to 100, after a prefix, and on damaged forms of it: a character outside the
// alphabet, misplaced padding, a line break, a missing character.
func TestAppendDecodeBase64(t *testing.T) {
	t.Parallel()
	src := make([]byte, 100)
	for i := range src {
		src[i] = byte(i*37 + 11)
	}
	for n := range len(src) + 1 {
		enc := base64.StdEncoding.EncodeToString(src[:n])
		inputs := []string{enc, enc + "\n", enc[:len(enc)/2] + "\r\n" + enc[len(enc)/2:]}
		if len(enc) > 0 {
			inputs = append(inputs, enc[1:], "="+enc[1:], enc[:len(enc)-1]+"*", enc[:len(enc)/2]+"!"+enc[len(enc)/2+1:])
		}
		for _, in := range inputs {
			for _, p := range [][]byte{nil, []byte("prefix:")} {
				checkDecodeBase64(t, p, []byte(in))
			}
		}
	}
	for _, in := range []string{"QQ==", "QR==", "QUI=", "QUJ=", "Q===", "====", "QQ=A", "QUJD"} {
		checkDecodeBase64(t, nil, []byte(in))
	}
}

// checkDecodeBase64 fails t unless appendDecodeBase64 and encoding/base64 agree on in: the same
// bytes after prefix, or both refuse it (where encoding/base64 skips a CR or LF, ours
// refuses).
func checkDecodeBase64(t *testing.T, prefix, in []byte) {
	t.Helper()
	got, ok := appendDecodeBase64(bytes.Clone(prefix), in)
	want, err := base64.StdEncoding.AppendDecode(bytes.Clone(prefix), in)
	if bytes.ContainsAny(in, "\r\n") {
		if ok {
			t.Fatalf("%q: accepted a line break", in)
		}
		return
	}
	if ok != (err == nil) || ok && !bytes.Equal(got, want) {
		t.Fatalf("%q: %q, %v; encoding/base64 %q, %v", in, got, ok, want, err)
	}
	if !ok && !bytes.Equal(got, prefix) {
		t.Fatalf("%q: refused, but changed dst to %q", in, got)
	}
}

func FuzzAppendDecodeBase64(f *testing.F) {
	f.Add([]byte("aGVsbG8sIHdvcmxk"))
	f.Add([]byte("QR=="))
	f.Add([]byte("////+++="))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecodeBase64(t, nil, in)
	})
}

func BenchmarkBase64Decode1K(b *testing.B) {
	src := base64.StdEncoding.AppendEncode(nil, make([]byte, 1024))
	dst := make([]byte, 0, 2048)
	b.SetBytes(1024)
	b.Run("ours", func(b *testing.B) {
		for b.Loop() {
			dst, _ = appendDecodeBase64(dst[:0], src)
		}
	})
	b.Run("encoding-base64", func(b *testing.B) {
		for b.Loop() {
			dst, _ = base64.StdEncoding.AppendDecode(dst[:0], src)
		}
	})
}
