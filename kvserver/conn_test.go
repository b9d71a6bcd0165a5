package kvserver

import (
	"bytes"
	"testing"
)

// A batch that takes its own copy of the bytes it was parsed from (batch.own) keeps every
// argument as parsed, whatever then happens to the read buffer; RESP frames, inline commands
// (split by bytes.Fields when not ASCII) and text lines alike.
func FuzzBatchOwn(f *testing.F) {
	for _, seed := range []string{
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n",
		"PING hello\r\nSET k\u00e9 v\r\n\r\n",
		"Put:k:v\nGet:k\nDelete:k\n\nUpdate:k:a:b\n",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, text bool) {
		b := &batch{}
		pos := 0
		for pos < len(in) {
			if text {
				i := bytes.IndexByte(in[pos:], '\n')
				if i < 0 {
					break
				}
				_, b.args = parseLine(in[pos:pos+i], b.args)
				pos += i + 1
				continue
			}
			args, n, err := parseRequest(in[pos:], b.args)
			if err != nil {
				break
			}
			b.args, pos = args, pos+n
		}
		want := make([][]byte, len(b.args))
		for i, a := range b.args {
			want[i] = bytes.Clone(a)
		}
		b.own(in[:pos])
		for i := range in {
			in[i] ^= 0xff // the reader's buffer, reused
		}
		for i, a := range b.args {
			if !bytes.Equal(a, want[i]) {
				t.Fatalf("argument %d = %q after own, want %q", i, a, want[i])
			}
			if a == nil {
				t.Fatalf("argument %d is nil after own, want an empty value", i)
			}
		}
	})
}
