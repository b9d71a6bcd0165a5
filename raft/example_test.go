package raft_test

import (
	"fmt"
	"time"

	"ds440/labrpc"
	"ds440/raft"
)

// Three servers on a simulated network agree on a command.
func Example() {
	const n = 3
	net := labrpc.MakeNetwork()
	defer net.Cleanup()
	rafts := make([]*raft.Raft, n)
	applyChs := make([]chan raft.ApplyMsg, n)
	for i := range n {
		peers := make([]raft.Peer, n)
		for j := range n {
			end := fmt.Sprintf("%d->%d", i, j)
			peers[j] = net.MakeEnd(end)
			net.Connect(end, j)
			net.Enable(end, true)
		}
		applyChs[i] = make(chan raft.ApplyMsg, 16)
		rafts[i] = raft.Make(peers, i, raft.NewMemoryPersister(), applyChs[i])
		srv := labrpc.MakeServer()
		srv.AddService(labrpc.MakeService(rafts[i]))
		net.AddServer(i, srv)
	}
	defer func() {
		for _, rf := range rafts {
			rf.Kill()
		}
	}()

	// Offer the command to every server until the leader takes it.
	deadline := time.Now().Add(10 * time.Second)
	for accepted := false; !accepted && time.Now().Before(deadline); {
		for _, rf := range rafts {
			if _, _, isLeader := rf.Start("hello"); isLeader {
				accepted = true
				break
			}
		}
		time.Sleep(50 * time.Millisecond) // real time: an Example runs outside a synctest bubble, so it polls for the leader
	}
	for i := range n {
		select {
		case m := <-applyChs[i]:
			fmt.Printf("server %d applied %d: %v\n", i, m.CommandIndex, m.Command)
		case <-time.After(10 * time.Second):
			fmt.Printf("server %d applied nothing\n", i)
		}
	}
	// Output:
	// server 0 applied 1: hello
	// server 1 applied 1: hello
	// server 2 applied 1: hello
}
