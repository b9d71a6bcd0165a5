package raft

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
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

// encodeState fails only for a command gob cannot encode (an unregistered type), which Start
// normally refuses up front.
func encodeState(st persistentState) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(st); err != nil {
		return nil, fmt.Errorf("raft: encoding state: %w (register command types with gob.Register)", err)
	}
	return buf.Bytes(), nil
}

func decodeState(data []byte) (persistentState, error) {
	var st persistentState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return persistentState{}, fmt.Errorf("%w: %v", ErrCorruptState, err)
	}
	if st.Term < 0 || st.VotedFor < none || st.SnapIndex < 0 || st.SnapTerm < 0 || st.SnapTerm > st.Term {
		return persistentState{}, fmt.Errorf("%w: impossible values %+v", ErrCorruptState, st)
	}
	for _, e := range st.Entries {
		if e.Term < st.SnapTerm || e.Term > st.Term {
			return persistentState{}, fmt.Errorf("%w: entry term %d outside [%d, %d]", ErrCorruptState, e.Term, st.SnapTerm, st.Term)
		}
	}
	return st, nil
}
