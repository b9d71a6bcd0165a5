package kvserver

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// frame encodes args as a RESP request frame.
func frame(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

func TestParseRESP(t *testing.T) {
	big := strings.Repeat("x", MaxLine)
	tests := []struct {
		name string
		in   string
		args []string
		n    int // consumed; -1 = len(in)
		err  error
	}{
		{name: "get", in: frame("GET", "k"), args: []string{"GET", "k"}, n: -1},
		{name: "empty bulk", in: frame("SET", "k", ""), args: []string{"SET", "k", ""}, n: -1},
		{name: "binary", in: frame("SET", "k", "a\r\nb\x00"), args: []string{"SET", "k", "a\r\nb\x00"}, n: -1},
		{name: "largest bulk", in: frame("SET", "k", big), args: []string{"SET", "k", big}, n: -1},
		{name: "pipelined", in: frame("PING") + frame("GET", "k"), args: []string{"PING"}, n: len(frame("PING"))},
		{name: "empty array", in: "*0\r\n", args: nil, n: 4},
		{name: "leading zeros", in: "*01\r\n$004\r\nPING\r\n", args: []string{"PING"}, n: -1},

		{name: "nothing", in: "", err: errIncomplete},
		{name: "count only", in: "*2", err: errIncomplete},
		{name: "count CR", in: "*2\r", err: errIncomplete},
		{name: "no bulk yet", in: "*2\r\n", err: errIncomplete},
		{name: "half a bulk", in: "*1\r\n$4\r\nPI", err: errIncomplete},
		{name: "bulk without CRLF yet", in: "*1\r\n$4\r\nPING", err: errIncomplete},
		{name: "bulk and CR", in: "*1\r\n$4\r\nPING\r", err: errIncomplete},

		{name: "inline", in: "PING\r\n", err: errNotArray},
		{name: "negative count", in: "*-1\r\n", err: errNegativeCount},
		{name: "huge count", in: "*99999999\r\n", err: errTooManyArgs},
		{name: "count overflow", in: "*99999999999999999999\r\n", err: errBadLength},
		{name: "count not a number", in: "*x\r\n", err: errBadLength},
		{name: "empty count", in: "*\r\n", err: errBadLength},
		{name: "plus sign", in: "*+1\r\n", err: errBadLength},
		{name: "lone minus", in: "*-\r\n", err: errBadLength},
		{name: "CR without LF", in: "*1\rx", err: errBadLength},
		{name: "not a bulk", in: "*1\r\n+PING\r\n", err: errNotBulk},
		{name: "negative bulk", in: "*1\r\n$-1\r\n", err: errNegativeBulk},
		{name: "bulk too long", in: fmt.Sprintf("*1\r\n$%d\r\n", maxBulk+1), err: errBulkTooLong},
		{name: "bulk length lies", in: "*1\r\n$2\r\nPING\r\n", err: errMissingCRLF},
		{name: "bad bulk length", in: "*1\r\n$4x\r\nPING\r\n", err: errBadLength},
	}
	for _, tt := range tests {
		prefix := [][]byte{[]byte("earlier")}
		args, n, err := parseRESP([]byte(tt.in), prefix)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
			continue
		}
		if err != nil && !strings.HasPrefix(err.Error(), "kvserver: ") {
			t.Errorf("%s: error %q lacks the package prefix", tt.name, err)
		}
		if string(args[0]) != "earlier" {
			t.Errorf("%s: earlier arguments overwritten", tt.name)
		}
		if err != nil {
			if len(args) != 1 || n != 0 {
				t.Errorf("%s: error %v but args %q, n %d", tt.name, err, args, n)
			}
			continue
		}
		if want := tt.n; want >= 0 && n != want || want < 0 && n != len(tt.in) {
			t.Errorf("%s: consumed %d of %d", tt.name, n, len(tt.in))
		}
		if got := strs(args[1:]); !slices.Equal(got, tt.args) {
			t.Errorf("%s: args = %.40q, want %.40q", tt.name, got, tt.args)
		}
	}
}

// Every proper prefix of a frame is incomplete, never an error: a frame may arrive in any
// number of pieces.
func TestParseRESPPrefixes(t *testing.T) {
	f := frame("RPUSH", "list", "", "a\r\nb", strings.Repeat("v", 300))
	for i := range len(f) {
		if _, _, err := parseRESP([]byte(f[:i]), nil); err != errIncomplete {
			t.Fatalf("prefix of %d bytes: err = %v, want errIncomplete", i, err)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		args   []string
		op     op
		reason string
	}{
		{args: []string{"GET", "k"}, op: opGetLast},
		{args: []string{"get", "k"}, op: opGetLast},
		{args: []string{"gEt", "k"}, op: opGetLast},
		{args: []string{"ping"}, op: opPing},
		{args: []string{"ping", "hi"}, op: opPing},
		{args: []string{"ping", "a", "b"}, op: opBad, reason: "wrong number of arguments for 'ping' command"},
		{args: []string{"RPUSH", "k", "a", "b"}, op: opRPush},
		{args: []string{"RPUSH", "k"}, op: opBad, reason: "wrong number of arguments for 'rpush' command"},
		{args: []string{"LRANGE", "k", "0", "-1"}, op: opLRange},
		{args: []string{"KVUPDATE", "k", "a", "b"}, op: opKVUpdate},
		{args: []string{"CONFIG", "GET", "save"}, op: opConfig},
		{args: []string{"COMMAND", "DOCS"}, op: opCommand},
		{args: []string{"SET", "k", "v", "EX", "10"}, op: opSet},
		{args: []string{"HSETX", "h", "f", "v"}, op: opBad, reason: "unknown command 'HSETX', with args beginning with: 'h' 'f' 'v' "},
		{args: []string{"KVUPDATEX"}, op: opBad, reason: "unknown command 'KVUPDATEX', with args beginning with: "},
		{args: []string{"a\r\nb"}, op: opBad, reason: "unknown command 'a  b', with args beginning with: "},
		{args: []string{""}, op: opBad, reason: "unknown command '', with args beginning with: "},
	}
	for _, tt := range tests {
		args := [][]byte{[]byte("earlier")}
		for _, a := range tt.args {
			args = append(args, []byte(a))
		}
		r := classify(args, 1)
		if r.op != tt.op || r.reason != tt.reason {
			t.Errorf("classify(%q) = op %d reason %q, want op %d reason %q", tt.args, r.op, r.reason, tt.op, tt.reason)
		}
		if r.lo != 2 || int(r.hi) != len(args) {
			t.Errorf("classify(%q) args [%d:%d], want [2:%d]", tt.args, r.lo, r.hi, len(args))
		}
		if strings.ContainsAny(r.reason, "\r\n") {
			t.Errorf("classify(%q) reason %q would break the reply line", tt.args, r.reason)
		}
	}
}

func FuzzParseRESP(f *testing.F) {
	for _, s := range []string{frame("GET", "k"), frame("SET", "k", "v") + frame("PING"), "*0\r\n", "*-1\r\n", "*1\r\n$-1\r\n", "*1\r\n$3\r\nab"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		args, n, err := parseRESP(in, nil)
		if err != nil {
			var perr protocolError
			if err != errIncomplete && !errors.As(err, &perr) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if n != 0 || len(args) != 0 {
				t.Fatalf("error %v with n=%d args=%q", err, n, args)
			}
			return
		}
		if n <= 0 || n > len(in) {
			t.Fatalf("consumed %d of %d", n, len(in))
		}
		// What was consumed is a frame that re-encodes to the same arguments.
		again, m, err := parseRESP([]byte(frame(strs(args)...)), nil)
		if err != nil || m != len(frame(strs(args)...)) || !slices.EqualFunc(again, args, bytes.Equal) {
			t.Fatalf("args %q do not round-trip: %q, %v", args, again, err)
		}
		// Every proper prefix of the consumed frame is incomplete.
		for _, i := range []int{0, n / 2, n - 1} {
			if _, _, err := parseRESP(in[:i], nil); err != errIncomplete && i < n {
				t.Fatalf("prefix %d of a %d-byte frame: %v", i, n, err)
			}
		}
		if len(args) > 0 {
			r := classify(args, 0)
			if r.op == opBad && (r.reason == "" || strings.ContainsAny(r.reason, "\r\n")) {
				t.Fatalf("classify(%q) reason %q", args, r.reason)
			}
			checkLookup(t, args[0])
		}
	})
}

// checkLookup checks that lookupCommand finds name exactly when commands holds its ASCII
// upper-case form.
func checkLookup(t *testing.T, name []byte) {
	upper := []byte(string(name))
	for i, c := range upper {
		if 'a' <= c && c <= 'z' {
			upper[i] = c - ('a' - 'A')
		}
	}
	want, ok := commands[string(upper)]
	got := lookupCommand(name)
	if ok != (got != nil) || ok && (got.op != want.op || got.arity != want.arity) {
		t.Fatalf("lookupCommand(%q) = %+v, want %+v (found %v)", name, got, want, ok)
	}
}

func TestLookupCommand(t *testing.T) {
	t.Parallel()
	for name := range commands {
		checkLookup(t, []byte(name))
		checkLookup(t, []byte(strings.ToLower(name)))
		checkLookup(t, []byte(name[:len(name)-1]))
		checkLookup(t, []byte(name+"S"))
		for _, c := range []byte{'@', '[', '`', '{', 0xC1, 0xE1} { // around the letters, and their bit 0x20 twins
			checkLookup(t, append([]byte{c}, name[1:]...))
			checkLookup(t, append([]byte(name[:len(name)-1]), c))
		}
	}
	for _, name := range []string{"", "x", "SISMEMBERS", "ping\x00", "P\x00NG"} {
		checkLookup(t, []byte(name))
	}
}

// FuzzParseRequest checks the inline parser beside the RESP one: no panic, what is consumed
// is one line whose words are the arguments, and nothing is consumed without a newline.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"PING\r\n", "set k v\n", "sIsMeMbEr s m\n", "p\xc3\xa9ng \xc2\xa0x\n", "  \r\n", "GET", frame("GET", "k"), "x\ty  z\r\nrest"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		args, n, err := parseRequest(in, nil)
		if len(in) == 0 || in[0] == '*' || err == errInlineTooLong {
			return
		}
		if err == errIncomplete {
			if bytes.IndexByte(in, '\n') >= 0 || n != 0 {
				t.Fatalf("incomplete with a newline in %q", in)
			}
			return
		}
		if err != nil || n < 1 || in[n-1] != '\n' || bytes.IndexByte(in[:n-1], '\n') >= 0 {
			t.Fatalf("parseRequest(%q) = %q, %d, %v", in, args, n, err)
		}
		if !slices.EqualFunc(args, bytes.Fields(in[:n]), bytes.Equal) {
			t.Fatalf("words %q of %q", args, in[:n])
		}
		if len(args) > 0 {
			checkLookup(t, args[0])
		}
	})
}
