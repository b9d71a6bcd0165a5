package main

import (
	"bufio"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestWorkloadIsReproducibleAndMixed(t *testing.T) {
	a := newWorkload(7, 3, 0.8, 100, 4)
	b := newWorkload(7, 3, 0.8, 100, 4)
	other := newWorkload(7, 4, 0.8, 100, 4)
	const n = 20000
	gets, differs := 0, false
	seen := map[int]bool{}
	for range n {
		ga, ka := a.next()
		gb, kb := b.next()
		go_, ko := other.next()
		if ga != gb || ka != kb {
			t.Fatal("two workloads with the same seed and client differ")
		}
		differs = differs || ga != go_ || ka != ko
		if ka < 0 || ka >= 100 {
			t.Fatalf("key %d outside 0..99", ka)
		}
		seen[ka] = true
		if ga {
			gets++
		}
	}
	if !differs {
		t.Error("two clients got the same workload")
	}
	if frac := float64(gets) / n; math.Abs(frac-0.8) > 0.02 {
		t.Errorf("%.3f gets, want 0.8", frac)
	}
	if len(seen) != 100 {
		t.Errorf("%d of 100 keys used", len(seen))
	}
	for _, f := range []float64{0, 1} {
		w := newWorkload(1, 0, f, 10, 1)
		for range 100 {
			if g, _ := w.next(); g != (f == 1) {
				t.Fatalf("-get %v produced a get=%v", f, g)
			}
		}
	}
}

func TestAppendOp(t *testing.T) {
	val := []byte("vv")
	for _, tc := range []struct {
		p    proto
		get  bool
		want string
	}{
		{protoRedis, true, "*2\r\n$3\r\nGET\r\n$16\r\nkey:000000000042\r\n"},
		{protoRedis, false, "*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000042\r\n$2\r\nvv\r\n"},
		{protoText, true, "Get:key-42\n"},
		{protoText, false, "Delete:key-42\nPut:key-42:vv\n"},
	} {
		key := keyName(nil, tc.p, 42)
		if got := string(appendOp([]byte("x"), tc.p, tc.get, key, val)); got != "x"+tc.want {
			t.Errorf("appendOp(%v, get=%v) = %q, want %q", tc.p, tc.get, got, "x"+tc.want)
		}
	}
	if got := string(keyName([]byte("x"), protoRedis, 1234567)); got != "xkey:000001234567" {
		t.Errorf("key 1234567 = %q", got)
	}
	if got := string(appendFence(appendFenceSetup(nil, 3), 3)); got != "Delete:kvbench-fence-3\nPut:kvbench-fence-3:fence\nGet:kvbench-fence-3\n" {
		t.Errorf("fence = %q", got)
	}
}

func TestReadRESP(t *testing.T) {
	for _, tc := range []struct {
		in    string
		isErr bool
		err   error
	}{
		{"+OK\r\n", false, nil},
		{":12\r\n", false, nil},
		{"-ERR nope\r\n", true, nil},
		{"$3\r\nabc\r\n", false, nil},
		{"$0\r\n\r\n", false, nil},
		{"$-1\r\n", false, nil},
		{"*0\r\n", false, nil},
		{"*-1\r\n", false, nil},
		{"*2\r\n$1\r\na\r\n*1\r\n-ERR inner\r\n", true, nil},
		{"$3\r\nabcd\r\n", false, errProtocol},
		{"$-2\r\n", false, errProtocol},
		{"$x\r\n", false, errProtocol},
		{"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", false, errProtocol},
		{"?\r\n", false, errProtocol},
		{"\r\n", false, errProtocol},
		{"$5\r\nab", false, io.EOF},
		{"+OK", false, io.EOF},
	} {
		isErr, err := readRESP(bufio.NewReader(strings.NewReader(tc.in)))
		if isErr != tc.isErr || !errors.Is(err, tc.err) {
			t.Errorf("readRESP(%q) = %v, %v; want %v, %v", tc.in, isErr, err, tc.isErr, tc.err)
		}
	}
}

func TestReadTextBatch(t *testing.T) {
	in := "key-1:v\nERR unknown verb\nkey-2:w\nkvbench-fence-3:fence\nnext batch\n"
	r := bufio.NewReader(strings.NewReader(in))
	errs, err := readTextBatch(r, 3)
	if err != nil || errs != 1 {
		t.Fatalf("readTextBatch = %d, %v; want 1 error line", errs, err)
	}
	if rest, _ := r.ReadString('\n'); rest != "next batch\n" {
		t.Fatalf("read past the fence: next line %q", rest)
	}
	if _, err := readTextBatch(bufio.NewReader(strings.NewReader("kvbench-fence-30:fence\n")), 3); err == nil {
		t.Fatal("another client's fence ended the batch")
	}
	if _, err := readTextBatch(bufio.NewReader(strings.NewReader("-ERR unknown command 'Get:key-1'\r\n")), 3); !errors.Is(err, errProtocol) {
		t.Fatalf("a Redis error reply to the text protocol: err = %v, want errProtocol", err)
	}
}

// FuzzReadRESP checks that no reply stream makes the reply reader panic or hang.
func FuzzReadRESP(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "$3\r\nabc\r\n", "*2\r\n:1\r\n$-1\r\n", "-ERR x\r\n", "*1\r\n*1\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReaderSize(strings.NewReader(string(in)), 16)
		for range len(in) + 1 {
			if _, err := readRESP(r); err != nil {
				return
			}
		}
		t.Fatalf("more replies than bytes in %q", in)
	})
}

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		in    string
		n     int
		isErr bool
		err   error
	}{
		{"+OK\r\n", 5, false, nil},
		{"+OK\r\n+OK\r\n", 5, false, nil},
		{"-ERR nope\r\n", 11, true, nil},
		{"$3\r\nxxx\r\n$-1\r\n", 9, false, nil},
		{"$-1\r\n", 5, false, nil},
		{"*2\r\n$1\r\na\r\n*1\r\n-ERR inner\r\n", 27, true, nil},
		{"", 0, false, nil},
		{"+OK\r", 0, false, nil},
		{"$3\r\nxx", 0, false, nil},
		{"$3\r\nxxx\r", 0, false, nil},
		{"*2\r\n:1\r\n", 0, false, nil},
		{"$3\r\nabcd\r\n", 0, false, errProtocol},
		{"?\r\n", 0, false, errProtocol},
		{"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 0, false, errProtocol},
		{"+" + strings.Repeat("x", maxLine), 0, false, errProtocol},
	} {
		n, isErr, err := parseReply([]byte(tc.in), 0)
		if n != tc.n || isErr != tc.isErr || !errors.Is(err, tc.err) {
			t.Errorf("parseReply(%.40q) = %d, %v, %v; want %d, %v, %v", tc.in, n, isErr, err, tc.n, tc.isErr, tc.err)
		}
	}
}

// FuzzParseReply checks that parseReply, fed a stream a byte at a time, finds the replies
// readRESP finds, with the same error flags, and fails where readRESP finds a malformed reply.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n$3\r\nxxx\r\n", "*2\r\n:1\r\n$-1\r\n-ERR x\r\n", "$3\r\nabcd\r\n", "*1\r\n*1\r\n", "+a\n$1\nb\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want []bool
		var wantErr error
		r := bufio.NewReaderSize(strings.NewReader(string(in)), maxLine)
		for {
			isErr, err := readRESP(r)
			if err != nil {
				wantErr = err
				break
			}
			want = append(want, isErr)
		}
		var got []bool
		var gotErr error
		start := 0
		for end := 0; end <= len(in) && gotErr == nil; end++ { // the bytes arrive one by one
			for gotErr == nil {
				n, isErr, err := parseReply(in[start:end], 0)
				if err != nil {
					gotErr = err
				}
				if n == 0 {
					break
				}
				start += n
				got = append(got, isErr)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("replies of %q: parseReply %v, readRESP %v", in, got, want)
		}
		if errors.Is(wantErr, errProtocol) != errors.Is(gotErr, errProtocol) {
			t.Fatalf("end of %q: parseReply %v, readRESP %v", in, gotErr, wantErr)
		}
	})
}
