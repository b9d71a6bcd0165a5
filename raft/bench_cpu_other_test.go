//go:build !unix

package raft

import "time"

// processCPU cannot tell the process's CPU time here.
func processCPU() time.Duration { return 0 }
