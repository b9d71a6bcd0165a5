//go:build !unix

package testutil

// OpenFileLimit returns false: outside Unix there is no per-process descriptor limit to read
// (Windows limits sockets by memory, not by a count).
func OpenFileLimit() (int, bool) { return 0, false }
