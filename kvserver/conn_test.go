package kvserver

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// On the event loop, serving requests allocates nothing: a read is parsed and run from the
// loop's buffer, replies go out from the client's reused one. A client sends 16 pipelined
// SETs and GETs per round and reads the replies; over 1,000 rounds the whole process (client
// included) may allocate less than once per round. Not parallel: the count is process-wide.
func TestEventLoopServesWithoutAllocating(t *testing.T) {
	s := startServer(t, nil)
	if s.ep == nil {
		t.Skip("no event loop on this platform")
	}
	c := dial(t, s)
	c.do("SET", "key:1", "xxx") // the client's first buffers
	req := strings.Repeat(frame("SET", "key:1", "xxx")+frame("GET", "key:1"), 8)
	want := strings.Repeat("+OK\r\n$3\r\nxxx\r\n", 8)
	out, in := []byte(req), make([]byte, len(want))
	round := func() {
		if _, err := c.c.Write(out); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c.c, in); err != nil || string(in) != want {
			t.Fatalf("replies %q, %v", in, err)
		}
	}
	c.c.SetDeadline(time.Now().Add(ioTimeout))
	for range 10 {
		round()
	}
	if n := testing.AllocsPerRun(1000, round); n >= 1 {
		t.Errorf("%.0f allocations per round of 16 pipelined requests, want none", n)
	}
}

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
