//go:build !unix

package kvserver

import "os"

// lockFile is a no-op where flock is unavailable: running two servers on one log is then the
// operator's mistake to avoid.
func lockFile(*os.File) (unlock func() error, err error) { return func() error { return nil }, nil }
