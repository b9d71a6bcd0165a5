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

// The state is encoded in a small binary format rather than gob, for Persister.ReadRaftState and
// for the compatibility layer over a Persister that is not a Storage:
//
//	version | term | votedFor+1 | snapIndex | snapTerm | count | count × entry
//
// all uvarints, where an entry is term | len | command. A command is a kind byte and its
// bytes: int and string directly, anything else through gob (which must know its type:
// gob.Register). FilePersister's log records reuse the entry encoding.
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

// commandSize returns the length of encodeCommand(cmd) without encoding the common kinds.
func commandSize(cmd any) (int, error) {
	switch v := cmd.(type) {
	case nil:
		return 1, nil
	case int:
		return 1 + varintLen(int64(v)), nil
	case string:
		return 1 + len(v), nil
	case []byte:
		return 1 + len(v), nil
	}
	b, err := encodeCommand(cmd)
	return len(b), err
}

// entrySize returns the length of e's encoding (appendEntry).
func entrySize(e Entry) (int, error) {
	n, err := commandSize(e.Command)
	return uvarintLen(uint64(e.Term)) + uvarintLen(uint64(n)) + n, err
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}

// appendEntry appends e's encoding, term | len | command, to dst.
func appendEntry(dst []byte, e Entry) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(e.Term))
	switch v := e.Command.(type) {
	case nil:
		return append(dst, 1, cmdNil), nil
	case int:
		dst = binary.AppendUvarint(dst, uint64(1+varintLen(int64(v))))
		return binary.AppendVarint(append(dst, cmdInt), int64(v)), nil
	case string:
		dst = binary.AppendUvarint(dst, uint64(1+len(v)))
		return append(append(dst, cmdString), v...), nil
	case []byte:
		dst = binary.AppendUvarint(dst, uint64(1+len(v)))
		return append(append(dst, cmdBytes), v...), nil
	}
	b, err := encodeCommand(e.Command)
	if err != nil {
		return dst, err
	}
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...), nil
}

// readEntries reads count entries (appendEntry's encoding) whose terms must not decrease, lie
// in [minTerm, maxTerm], and appends them to dst, calling each (if set) after each entry.
func readEntries(r *wireReader, dst []Entry, count, minTerm, maxTerm int, each func()) []Entry {
	if count > len(r.b) { // every entry takes at least one byte
		r.fail("impossible entry count")
		return dst
	}
	dst = slices.Grow(dst, count)
	for range count {
		term := r.count()
		raw := r.bytes(r.count())
		if r.err != nil {
			break
		}
		if term < minTerm || term > maxTerm {
			r.fail(fmt.Sprintf("entry term %d out of order", term))
			break
		}
		cmd, err := decodeCommand(raw)
		if err != nil {
			r.fail(err.Error())
			break
		}
		dst = append(dst, Entry{Term: term, Command: cmd})
		minTerm = term
		if each != nil {
			each()
		}
	}
	return dst
}

// stateHeaderSize is the length of the header encodeState writes for st.
func stateHeaderSize(st *Saved, count int) int {
	return uvarintLen(stateVersion) + uvarintLen(uint64(st.Term)) + uvarintLen(uint64(st.VotedFor+1)) +
		uvarintLen(uint64(st.Snapshot.Index)) + uvarintLen(uint64(st.Snapshot.Term)) + uvarintLen(uint64(count))
}

// encodeState encodes st without its snapshot data, which is saved beside it.
func encodeState(st Saved) ([]byte, error) {
	out := make([]byte, 0, stateHeaderSize(&st, len(st.Entries))+len(st.Entries)*8)
	out = binary.AppendUvarint(out, stateVersion)
	out = binary.AppendUvarint(out, uint64(st.Term))
	out = binary.AppendUvarint(out, uint64(st.VotedFor+1))
	out = binary.AppendUvarint(out, uint64(st.Snapshot.Index))
	out = binary.AppendUvarint(out, uint64(st.Snapshot.Term))
	out = binary.AppendUvarint(out, uint64(len(st.Entries)))
	var err error
	for _, e := range st.Entries {
		if out, err = appendEntry(out, e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeState parses and validates an encoded state (its snapshot Data left nil); it never
// panics on bad input.
func decodeState(data []byte) (Saved, error) {
	r := wireReader{b: data, bad: ErrCorruptState}
	version := r.count()
	st := Saved{Term: r.count(), VotedFor: r.count() - 1, Snapshot: Snapshot{Index: r.count(), Term: r.count()}}
	count := r.count()
	switch {
	case r.err != nil:
	case version != stateVersion:
		r.fail(fmt.Sprintf("unknown version %d", version))
	case st.Snapshot.Term > st.Term:
		r.fail("impossible header")
	default:
		st.Entries = readEntries(&r, nil, count, st.Snapshot.Term, st.Term, nil)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return Saved{}, r.err
	}
	return st, nil
}
