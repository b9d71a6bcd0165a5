//go:build !(linux && (amd64 || arm64))

package lspnet

func (c *UDPConn) readBatch(bufs [][]byte, ns []int, addrs []*UDPAddr) (int, error) {
	return c.readOne(bufs, ns, addrs)
}

func (c *UDPConn) writeBatch(bufs [][]byte, addrs []*UDPAddr) (int, error) {
	return c.writeEach(bufs, addrs)
}
