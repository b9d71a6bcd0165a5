//go:build unix

package raft

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the process has used so far, or 0 if it
// cannot tell. Commits per CPU second stays meaningful on a machine shared with other work,
// where commits per wall-clock second mostly measures how much CPU was left over.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
