//go:build linux && (mips || mipsle)

package main

const (
	sysIOUringSetup = 4425
	sysIOUringEnter = 4426
)
