//go:build unix

package testutil

import (
	"math"
	"syscall"
)

// OpenFileLimit returns how many descriptors this process may hold open (the soft
// RLIMIT_NOFILE, at most math.MaxInt), and false where the limit cannot be read.
func OpenFileLimit() (int, bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	// Cur is uint64 on most systems and int64 on some BSDs; neither is negative.
	return int(min(uint64(lim.Cur), math.MaxInt)), true
}
