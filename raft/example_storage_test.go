package raft_test

import (
	"fmt"
	"os"

	"ds440/raft"
)

// A FilePersister appends each update Raft stores and gives the state back after a restart.
func ExampleFilePersister() {
	dir, err := os.MkdirTemp("", "raft-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	p, err := raft.NewFilePersister(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	// What Raft does on its own: a vote, then entries, then a snapshot of the first two.
	updates := []raft.Update{
		{Term: 1, VotedFor: 0},
		{Term: 1, VotedFor: 0, From: 1, Entries: []raft.Entry{{Term: 1, Command: "x=1"}, {Term: 1, Command: "y=2"}}},
		{Term: 1, VotedFor: 0, From: 3, Entries: []raft.Entry{{Term: 1, Command: "x=3"}}},
		{Term: 1, VotedFor: 0, Snapshot: &raft.Snapshot{Index: 2, Term: 1, Data: []byte("x=1 y=2")},
			From: 3, Entries: []raft.Entry{{Term: 1, Command: "x=3"}}},
	}
	for _, u := range updates {
		if err := p.Store(u); err != nil { // durable once it returns nil
			fmt.Println(err)
			return
		}
	}
	p.Close()

	p, err = raft.NewFilePersister(dir) // a restart
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	st, err := p.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("term %d, voted for %d, snapshot %q through %d, then %v\n",
		st.Term, st.VotedFor, st.Snapshot.Data, st.Snapshot.Index, st.Entries)
	// Output:
	// term 1, voted for 0, snapshot "x=1 y=2" through 2, then [{1 x=3}]
}
