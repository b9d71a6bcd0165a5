//go:build unix

package testutil

import (
	"errors"
	"syscall"
)

// processGone reports whether no process with this pid exists (signal 0 probes without
// sending anything).
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
