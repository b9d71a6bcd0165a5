//go:build !(linux && (amd64 || arm64))

package lspnet

// batchState is the memory of a batched call; the portable path needs none.
type batchState struct{}

func (c *UDPConn) readBatch(bufs [][]byte, ns []int, addrs []*UDPAddr) (int, error) {
	return c.readOne(bufs, ns, addrs)
}

func (c *UDPConn) writeBatch(bufs [][]byte, addrs []*UDPAddr) (int, error) {
	return c.writeEach(bufs, addrs)
}

// EnableGRO reports false: this platform's path has no UDP GRO.
func (c *UDPConn) EnableGRO() bool { return false }
