//go:build !unix

package testutil

import "os"

// processGone reports whether no process with this pid exists. On Windows FindProcess opens
// the process and fails when it is gone; where it cannot tell, the process counts as alive,
// so a directory is never removed from under a running test.
func processGone(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	p.Release()
	return false
}
