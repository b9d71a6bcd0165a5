//go:build linux && (mips64 || mips64le)

package rawio

const (
	sysIOUringSetup = 5425
	sysIOUringEnter = 5426
)
