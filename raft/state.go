package raft

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"slices"
)

// ErrCorruptState reports persisted Raft state that cannot be decoded.
var ErrCorruptState = errors.New("raft: corrupt persisted state")

// persistentState is what Raft must not forget across a crash (Figure 2: currentTerm, votedFor,
// log[]), plus where the log starts after the snapshot.
type persistentState struct {
	Term      int
	VotedFor  int
	SnapIndex int
	SnapTerm  int
	Entries   []Entry // the log after the snapshot
}

// The state is saved in a small binary format rather than gob, because it is rewritten whole
// on every save (the Persister interface has no append) and re-encoding every command each time
// dominated the CPU profile. The log caches its entries' encoding as one buffer, so a save costs
// one copy of it plus the encoding of new entries only:
//
//	version | term | votedFor+1 | snapIndex | snapTerm | count | count × (term | len | command)
//
// all uvarints; a command is a kind byte and its bytes: int and string directly, anything else
// through gob (which must know its type: gob.Register).
const stateVersion = 1

const (
	cmdNil byte = iota
	cmdInt
	cmdString
	cmdBytes
	cmdGob
)

// gobBox carries an arbitrary command through gob as an interface, preserving its type.
type gobBox struct{ C any }

func encodeCommand(cmd any) ([]byte, error) {
	switch v := cmd.(type) {
	case nil:
		return []byte{cmdNil}, nil
	case int:
		return binary.AppendVarint([]byte{cmdInt}, int64(v)), nil
	case string:
		return append([]byte{cmdString}, v...), nil
	case []byte:
		return append([]byte{cmdBytes}, v...), nil
	}
	var buf bytes.Buffer
	buf.WriteByte(cmdGob)
	if err := gob.NewEncoder(&buf).Encode(gobBox{cmd}); err != nil {
		return nil, fmt.Errorf("raft: command of type %T cannot be encoded: %w (gob.Register it)", cmd, err)
	}
	return buf.Bytes(), nil
}

func decodeCommand(b []byte) (any, error) {
	if len(b) == 0 {
		return nil, errors.New("empty command")
	}
	switch b[0] {
	case cmdNil:
		return nil, nil
	case cmdInt:
		v, n := binary.Varint(b[1:])
		if n <= 0 || n != len(b)-1 {
			return nil, errors.New("bad int command")
		}
		return int(v), nil
	case cmdString:
		return string(b[1:]), nil
	case cmdBytes:
		return append([]byte{}, b[1:]...), nil
	case cmdGob:
		var box gobBox
		if err := gob.NewDecoder(bytes.NewReader(b[1:])).Decode(&box); err != nil {
			return nil, err
		}
		return box.C, nil
	}
	return nil, fmt.Errorf("unknown command kind %d", b[0])
}

// appendLogState appends the core's persistent state to dst, extending the log's encoding cache
// by the entries not yet in it. It fails only for a command gob cannot encode, which Start
// normally refuses up front.
func appendLogState(dst []byte, term, votedFor int, l *raftLog) ([]byte, error) {
	for k := l.encoded + 1; k < len(l.entries); k++ {
		b, err := encodeCommand(l.entries[k].Command)
		if err != nil {
			return nil, err
		}
		l.body = binary.AppendUvarint(l.body, uint64(l.entries[k].Term))
		l.body = binary.AppendUvarint(l.body, uint64(len(b)))
		l.body = append(l.body, b...)
		l.ends = append(l.ends, len(l.body))
		l.encoded = k
	}
	out := slices.Grow(dst, 6*binary.MaxVarintLen64+len(l.body))
	out = binary.AppendUvarint(out, stateVersion)
	out = binary.AppendUvarint(out, uint64(term))
	out = binary.AppendUvarint(out, uint64(votedFor+1))
	out = binary.AppendUvarint(out, uint64(l.snapIndex()))
	out = binary.AppendUvarint(out, uint64(l.snapTerm()))
	out = binary.AppendUvarint(out, uint64(len(l.entries)-1))
	return append(out, l.body...), nil
}

// encodeState encodes a persistentState (for tests and tools; Raft itself uses appendLogState
// with its cache).
func encodeState(st persistentState) ([]byte, error) {
	l := newLog()
	l.reset(st.SnapIndex, st.SnapTerm)
	l.append(st.Entries...)
	return appendLogState(nil, st.Term, st.VotedFor, &l)
}

// decodeState parses and validates saved state; it never panics on bad input.
func decodeState(data []byte) (persistentState, error) {
	r := wireReader{b: data, bad: ErrCorruptState}
	version := r.count()
	st := persistentState{Term: r.count(), VotedFor: r.count() - 1, SnapIndex: r.count(), SnapTerm: r.count()}
	count := r.count()
	switch {
	case r.err != nil:
	case version != stateVersion:
		r.fail(fmt.Sprintf("unknown version %d", version))
	case st.SnapTerm > st.Term || count > len(r.b):
		r.fail("impossible header")
	default:
		st.Entries = make([]Entry, 0, count)
	}
	for i := 0; i < count && r.err == nil; i++ {
		term := r.count()
		raw := r.bytes(r.count())
		if r.err != nil {
			break
		}
		if term < st.SnapTerm || term > st.Term || (i > 0 && term < st.Entries[i-1].Term) {
			r.fail(fmt.Sprintf("entry term %d out of order", term))
			break
		}
		cmd, err := decodeCommand(raw)
		if err != nil {
			r.fail(err.Error())
			break
		}
		st.Entries = append(st.Entries, Entry{Term: term, Command: cmd})
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return persistentState{}, r.err
	}
	return st, nil
}
