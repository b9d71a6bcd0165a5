//go:build unix

package chaos

import (
	"os"
	"syscall"
)

// pause stops p with SIGSTOP; resume continues it with SIGCONT.
func pause(p *os.Process) error  { return p.Signal(syscall.SIGSTOP) }
func resume(p *os.Process) error { return p.Signal(syscall.SIGCONT) }
