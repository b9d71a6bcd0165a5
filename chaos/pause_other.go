//go:build !unix

package chaos

import "os"

// pause and resume have no SIGSTOP/SIGCONT to send on this system.
func pause(*os.Process) error  { return ErrPauseUnsupported }
func resume(*os.Process) error { return ErrPauseUnsupported }
