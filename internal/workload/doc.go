// Package workload holds the clients that the chaos harness and the linearizability tests
// drive real servers with: RaftKV for raftnode's HTTP key/value API (retrying, following the
// leader, reporting outcomes as linearize's KV model has them) and RESPConn, a minimal Redis
// protocol client for kvserver. They are test and harness tools, not libraries: package chaos
// itself stays free of any one system.
package workload
