//go:build !unix

package main

import "time"

// ownCPU reports that kvbench cannot read its CPU time on this platform.
func ownCPU() (time.Duration, bool) { return 0, false }
