//go:build unix

package main

import (
	"syscall"
	"time"
)

// ownCPU returns the user and system CPU time kvbench has used so far.
func ownCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
