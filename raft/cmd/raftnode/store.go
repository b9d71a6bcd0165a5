package main

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

// command is one replicated operation: a write, a compare-and-set, or with Read a consistent
// read, which changes nothing but is answered only once it is applied, so it sees every write
// committed before it.
//
// ID lets the proposer recognise its own entry at the index Start returned: a different leader
// may have put something else there. Client and Seq identify the request across retries: a
// client numbers its requests 1, 2, 3, ... and retries one with the same number until it gets
// an answer, so a write that is already in the log is not applied a second time. Client 0
// means an anonymous request, applied every time it is committed.
type command struct {
	ID     uint64
	Key    string
	Value  string
	Read   bool
	Client uint64
	Seq    uint64
	// CAS makes a write conditional: it takes effect only if the key holds Expect (or, with
	// ExpectAbsent, does not exist).
	CAS          bool
	Expect       string
	ExpectAbsent bool
}

func init() { gob.Register(command{}) }

// session is what the state machine remembers of a client: its last applied request and the
// answer to it, to repeat when that request comes again.
type session struct {
	Seq     uint64
	Swapped bool
}

// kvState is the replicated state machine and what a snapshot holds.
type kvState struct {
	Applied  int
	KV       map[string]string
	Sessions map[uint64]session
}

func newKVState() kvState {
	return kvState{KV: map[string]string{}, Sessions: map[uint64]session{}}
}

// result is the outcome of applying one command.
type result struct {
	ID        uint64 // the command's ID: its proposer compares it with its own
	Swapped   bool   // a write took effect (always true for a plain write)
	Duplicate bool   // the client's request was applied before; this is the earlier answer
	Value     string // a read: the value at the read's place in the log
	Found     bool
}

// apply runs c against the state. It is the whole state machine: deterministic, no I/O.
func (s *kvState) apply(c command) result {
	r := result{ID: c.ID}
	if c.Read {
		r.Value, r.Found = s.KV[c.Key]
		return r
	}
	if c.Client != 0 {
		if last, ok := s.Sessions[c.Client]; ok && c.Seq <= last.Seq {
			// An older Seq means the client has moved on and no longer waits for this answer;
			// repeating the last one is harmless.
			r.Swapped, r.Duplicate = last.Swapped, true
			return r
		}
	}
	r.Swapped = true
	if c.CAS {
		cur, ok := s.KV[c.Key]
		r.Swapped = ok && !c.ExpectAbsent && cur == c.Expect || !ok && c.ExpectAbsent
	}
	if r.Swapped {
		s.KV[c.Key] = c.Value
	}
	if c.Client != 0 {
		s.Sessions[c.Client] = session{Seq: c.Seq, Swapped: r.Swapped}
	}
	return r
}

func (s *kvState) encode() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeKVState(b []byte) (kvState, error) {
	s := newKVState()
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return kvState{}, fmt.Errorf("decode state: %w", err)
	}
	// Snapshots written before sessions existed, or of an empty map, decode to nil maps.
	if s.KV == nil {
		s.KV = map[string]string{}
	}
	if s.Sessions == nil {
		s.Sessions = map[uint64]session{}
	}
	return s, nil
}
