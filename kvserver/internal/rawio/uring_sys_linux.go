//go:build linux && !mips && !mipsle && !mips64 && !mips64le

package rawio

// io_uring's system call numbers, the same on every Linux architecture but MIPS.
const (
	sysIOUringSetup = 425
	sysIOUringEnter = 426
)
