package linearize

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// kvRecord is one line of a key/value history file.
type kvRecord struct {
	Client  int     `json:"client"`
	Kind    string  `json:"kind"` // read, write or cas
	Key     string  `json:"key"`
	Value   string  `json:"value,omitempty"`   // write, cas: the new value; read: what was read
	Found   *bool   `json:"found,omitempty"`   // read: false if the key was absent
	Expect  *string `json:"expect,omitempty"`  // cas: the value expected; omitted: absent
	Swapped *bool   `json:"swapped,omitempty"` // cas: the answer
	Call    int64   `json:"call"`              // nanoseconds from any common origin
	Return  *int64  `json:"return,omitempty"`  // omitted: the outcome is unknown
}

// WriteKVHistory writes a KVModel history as JSON Lines, one operation per line, for
// ReadKVHistory (or the lincheck command) to check later. Keys and values must be valid UTF-8:
// JSON strings cannot carry other bytes, and the history would be silently changed.
func WriteKVHistory(w io.Writer, history []Operation) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i, op := range history {
		in, ok := op.Input.(KVInput)
		if !ok {
			return fmt.Errorf("%w: operation %d: input %T is not a KVInput", ErrBadHistory, i, op.Input)
		}
		out, ok := op.Output.(KVOutput)
		if !ok && !op.Unknown {
			return fmt.Errorf("%w: operation %d: output %T is not a KVOutput", ErrBadHistory, i, op.Output)
		}
		rec := kvRecord{Client: op.ClientID, Kind: in.Kind.String(), Key: in.Key, Call: int64(op.Call)}
		if !op.Unknown {
			ret := int64(op.Return)
			rec.Return = &ret
		}
		switch in.Kind {
		case Read:
			if !op.Unknown {
				rec.Value, rec.Found = out.Value, &out.Found
			}
		case Write:
			rec.Value = in.Value
		case CompareAndSet:
			rec.Value = in.Value
			if !in.ExpectAbsent {
				rec.Expect = &in.Expect
			}
			if !op.Unknown {
				rec.Swapped = &out.Swapped
			}
		default:
			return fmt.Errorf("%w: operation %d: kind %v", ErrBadHistory, i, in.Kind)
		}
		for _, s := range []string{in.Key, in.Value, in.Expect, out.Value} {
			if !utf8.ValidString(s) {
				return fmt.Errorf("%w: operation %d: %q is not valid UTF-8", ErrBadHistory, i, s)
			}
		}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// maxLine bounds one line of a history file, so a file without newlines cannot exhaust memory.
const maxLine = 1 << 20

// ReadKVHistory reads a history written by WriteKVHistory (JSON Lines; blank lines are
// skipped). Errors name the line.
func ReadKVHistory(r io.Reader) ([]Operation, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	var history []Operation
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var rec kvRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrBadHistory, line, err)
		}
		op, err := rec.operation()
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrBadHistory, line, err)
		}
		history = append(history, op)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w: a line is longer than %d bytes", ErrBadHistory, maxLine)
		}
		return nil, err
	}
	return history, nil
}

func (rec kvRecord) operation() (Operation, error) {
	op := Operation{ClientID: rec.Client, Call: time.Duration(rec.Call), Unknown: rec.Return == nil}
	if rec.Return != nil {
		op.Return = time.Duration(*rec.Return)
		if op.Return < op.Call {
			return op, fmt.Errorf("returns at %d before its call at %d", *rec.Return, rec.Call)
		}
	}
	in := KVInput{Key: rec.Key}
	var out KVOutput
	switch rec.Kind {
	case "read":
		in.Kind = Read
		if !op.Unknown {
			if rec.Found == nil {
				return op, errors.New("a read needs found (or no return)")
			}
			out.Value, out.Found = rec.Value, *rec.Found
		}
	case "write":
		in.Kind, in.Value = Write, rec.Value
	case "cas":
		in.Kind, in.Value = CompareAndSet, rec.Value
		if rec.Expect != nil {
			in.Expect = *rec.Expect
		} else {
			in.ExpectAbsent = true
		}
		if !op.Unknown {
			if rec.Swapped == nil {
				return op, errors.New("a cas needs swapped (or no return)")
			}
			out.Swapped = *rec.Swapped
		}
	default:
		return op, fmt.Errorf("kind %q is not read, write or cas", rec.Kind)
	}
	op.Input = in
	if !op.Unknown {
		op.Output = out
	}
	return op, nil
}
