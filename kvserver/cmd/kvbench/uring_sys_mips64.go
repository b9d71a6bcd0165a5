//go:build linux && (mips64 || mips64le)

package main

const (
	sysIOUringSetup = 5425
	sysIOUringEnter = 5426
)
