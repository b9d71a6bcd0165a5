package lspnet

import "net"

// Network opens sockets that share one fault set (its embedded *Faults): the operating
// system's UDP sockets (NewNetwork) or in-memory ones that only reach each other
// (NewMemNetwork). A test that opens every socket from its own Network owns its faults, its
// tap and its sniffer, so it can run in parallel with other tests. The package-level ListenUDP
// and DialUDP open the OS's sockets under the process-wide default fault set.
type Network struct {
	*Faults
	mem *memNet // nil: the OS's UDP
}

// NewNetwork returns a network of the operating system's UDP sockets with a fault set of its
// own, perfect to begin with.
func NewNetwork() *Network { return &Network{Faults: new(Faults)} }

// NewMemNetwork returns an in-memory network: its sockets reach only each other, at addresses
// 127.0.0.1:port, and datagrams move through channels, with no system calls. A datagram sent to
// a port nobody listens on, or to a socket whose queue is full, is lost, as in UDP. Since
// every blocking call waits on a channel, code over it runs under testing/synctest.
func NewMemNetwork() *Network { return &Network{Faults: new(Faults), mem: newMemNet()} }

// ListenUDP opens a socket at laddr for a server; its traffic is subject to the server-side
// drop controls. A nil laddr or port 0 picks a free port.
func (n *Network) ListenUDP(network string, laddr *UDPAddr) (*UDPConn, error) {
	if n.mem != nil {
		c, err := n.mem.listen(unwrap(laddr), nil)
		if err != nil {
			return nil, err
		}
		return newConn(c, n.Faults, Server, nil), nil
	}
	c, err := net.ListenUDP(network, unwrap(laddr))
	if err != nil {
		return nil, err
	}
	return newConn(c, n.Faults, Server, nil), nil
}

// DialUDP opens a socket connected to raddr for a client; its traffic is subject to the
// client-side drop controls. laddr may be nil.
func (n *Network) DialUDP(network string, laddr, raddr *UDPAddr) (*UDPConn, error) {
	if n.mem != nil {
		if raddr == nil || raddr.addr == nil {
			return nil, ErrNoPeer
		}
		c, err := n.mem.listen(unwrap(laddr), raddr.addr)
		if err != nil {
			return nil, err
		}
		return newConn(c, n.Faults, Client, c.peer), nil
	}
	c, err := net.DialUDP(network, unwrap(laddr), unwrap(raddr))
	if err != nil {
		return nil, err
	}
	ra, _ := c.RemoteAddr().(*net.UDPAddr)
	return newConn(c, n.Faults, Client, ra), nil
}

// Watch starts a Monitor of n's sockets; see the package-level Watch.
func (n *Network) Watch(lim Limits) *Monitor { return watch(n.Faults, lim) }

// defaultNetwork is the OS's UDP under the process-wide default fault set.
var defaultNetwork = &Network{Faults: defaultFaults}

// ListenUDP opens a socket at laddr for a server, under the default fault set; its traffic is
// subject to the server-side drop controls. A nil laddr or port 0 picks a free port.
func ListenUDP(network string, laddr *UDPAddr) (*UDPConn, error) {
	return defaultNetwork.ListenUDP(network, laddr)
}

// DialUDP opens a socket connected to raddr for a client, under the default fault set; its
// traffic is subject to the client-side drop controls. laddr may be nil.
func DialUDP(network string, laddr, raddr *UDPAddr) (*UDPConn, error) {
	return defaultNetwork.DialUDP(network, laddr, raddr)
}
