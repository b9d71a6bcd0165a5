//go:build !linux

package main

import (
	"errors"
	"time"
)

const canReadProc = false

// procCPU reports that another process's CPU time is not read on this platform.
func procCPU(int) (time.Duration, error) {
	return 0, errors.New("reading a process's CPU time needs Linux's /proc")
}
