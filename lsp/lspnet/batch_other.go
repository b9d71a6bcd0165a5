//go:build !(linux && (amd64 || arm64))

package lspnet

// batchState is the memory of a batched call; the portable path needs none.
type batchState struct{}

func (c *UDPConn) readBatch(bufs [][]byte, ns []int, addrs []*UDPAddr, wait bool) (int, error) {
	if !wait {
		return 0, ErrNotPollable
	}
	return c.readOne(bufs, ns, addrs)
}

// Pollable reports false: this platform's path has no ReadBatchNow.
func (c *UDPConn) Pollable() bool { return false }

func (c *UDPConn) writeBatch(bufs [][]byte, addrs []*UDPAddr) (int, error) {
	return c.writeEach(bufs, addrs)
}

// EnableGRO reports false: this platform's path has no UDP GRO.
func (c *UDPConn) EnableGRO() bool { return false }
