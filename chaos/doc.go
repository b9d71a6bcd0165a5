// Package chaos breaks a cluster of real processes while clients use it, the way Jepsen's
// nemesis does, so that a history of what the clients saw can be checked afterwards (package
// linearize). Its parts:
//
//   - Link: a TCP proxy for one direction of a network link that can cut (reset), hang
//     (blackhole), delay or randomly reset the connections it carries. A cluster whose
//     servers dial each other through Links can be partitioned in any shape.
//   - Net: the Links of a whole cluster, with partitions (majority/minority, bridge, isolate
//     one server) and heal.
//   - Process: a server program to kill, terminate, pause and resume, its output kept in a log.
//
// Nothing here is specific to one system; the chaos program (cmd/chaos) drives raftnode,
// kvserver and kvstore with it, through the clients of internal/workload.
package chaos
