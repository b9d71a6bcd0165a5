//go:build linux && (mips || mipsle)

package rawio

const (
	sysIOUringSetup = 4425
	sysIOUringEnter = 4426
)
