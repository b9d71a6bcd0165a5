package kvserver

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line   string
		op     op
		args   []string
		reason string
	}{
		{line: "Put:k:v", op: opPut, args: []string{"k", "v"}},
		{line: "Put:k:a:b:c", op: opPut, args: []string{"k", "a:b:c"}},
		{line: "Put:k:", op: opPut, args: []string{"k", ""}},
		{line: "Put:k:v\r", op: opPut, args: []string{"k", "v"}},
		{line: "Put:k:v\r\r", op: opPut, args: []string{"k", "v\r"}},
		{line: "Put:k\x00:\xff\xfe", op: opPut, args: []string{"k\x00", "\xff\xfe"}},
		{line: "Get:k", op: opGet, args: []string{"k"}},
		{line: "Get:k\r", op: opGet, args: []string{"k"}},
		{line: "Delete:k", op: opDelete, args: []string{"k"}},
		{line: "Update:k:old:new", op: opUpdate, args: []string{"k", "old", "new"}},
		{line: "Update:k::", op: opUpdate, args: []string{"k", "", ""}},

		{line: "", op: opBad, reason: reasonEmpty},
		{line: "\r", op: opBad, reason: reasonEmpty},
		{line: "Bogus:k", op: opBad, reason: reasonVerb},
		{line: "get:k", op: opBad, reason: reasonVerb},
		{line: "PUT:k:v", op: opBad, reason: reasonVerb},
		{line: ":k", op: opBad, reason: reasonVerb},
		{line: "\x00\x01\x02", op: opBad, reason: reasonVerb},
		{line: "Put", op: opBad, reason: reasonPutArgs},
		{line: "Put:k", op: opBad, reason: reasonPutArgs},
		{line: "Put::v", op: opBad, reason: reasonEmptyKey},
		{line: "Get", op: opBad, reason: reasonGetArgs},
		{line: "Get:", op: opBad, reason: reasonEmptyKey},
		{line: "Get:k:v", op: opBad, reason: reasonGetArgs},
		{line: "Delete", op: opBad, reason: reasonDelArgs},
		{line: "Delete:", op: opBad, reason: reasonEmptyKey},
		{line: "Delete:k:x", op: opBad, reason: reasonDelArgs},
		{line: "Update:k:old", op: opBad, reason: reasonUpdateArg},
		{line: "Update:k", op: opBad, reason: reasonUpdateArg},
		{line: "Update:k:a:b:c", op: opBad, reason: reasonUpdateArg},
		{line: "Update::a:b", op: opBad, reason: reasonEmptyKey},
	}
	for _, tt := range tests {
		prefix := [][]byte{[]byte("earlier")}
		r, args := parseLine([]byte(tt.line), prefix)
		if r.op != tt.op || r.reason != tt.reason {
			t.Errorf("parseLine(%q) = op %d reason %q, want op %d reason %q", tt.line, r.op, r.reason, tt.op, tt.reason)
			continue
		}
		if got := strs(args[r.lo:r.hi]); !slices.Equal(got, tt.args) && len(got)+len(tt.args) > 0 {
			t.Errorf("parseLine(%q) args = %q, want %q", tt.line, got, tt.args)
		}
		if string(args[0]) != "earlier" {
			t.Errorf("parseLine(%q) overwrote earlier arguments", tt.line)
		}
	}
}

// Every reason is sent as "ERR <reason>" and must not contain ':' (or it could pass for a
// "key:value" reply) nor a newline.
func TestReasonsHaveNoColon(t *testing.T) {
	for _, r := range []string{reasonEmpty, reasonVerb, reasonEmptyKey, reasonPutArgs, reasonGetArgs, reasonDelArgs, reasonUpdateArg, "line longer than 1 MiB"} {
		if strings.ContainsAny(r, ":\n\r") {
			t.Errorf("reason %q contains ':' or a newline", r)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"Put:k:v", "Get:k", "Delete:k", "Update:k:a:b", "", ":::", "Get:\r", "Put:k:v:w\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return // the reader splits lines; parseLine never sees a newline
		}
		r, args := parseLine(line, nil)
		if r.op == opBad {
			if r.reason == "" || strings.Contains(r.reason, ":") || r.lo != r.hi {
				t.Fatalf("bad request %+v for %q", r, line)
			}
			return
		}
		a := args[r.lo:r.hi]
		if len(a[0]) == 0 || bytes.IndexByte(a[0], ':') >= 0 {
			t.Fatalf("key %q from %q", a[0], line)
		}
		// Re-encoding the request gives back the line (minus an ignored final "\r").
		verb := map[op]string{opPut: "Put", opGet: "Get", opDelete: "Delete", opUpdate: "Update"}[r.op]
		again := verb + ":" + string(bytes.Join(a, []byte{':'}))
		if again != string(bytes.TrimSuffix(line, []byte{'\r'})) {
			t.Fatalf("parseLine(%q) = %s %q, which encodes as %q", line, verb, a, again)
		}
	})
}

func strs(bs [][]byte) []string {
	var out []string
	for _, b := range bs {
		out = append(out, string(b))
	}
	return out
}
