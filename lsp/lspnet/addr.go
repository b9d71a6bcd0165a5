package lspnet

import "net"

// UDPAddr is the address of a UDP endpoint. It wraps *net.UDPAddr so that a course's
// instrumented lspnet, with the same surface, can stand in for this one.
type UDPAddr struct {
	addr *net.UDPAddr
}

// String returns the address in host:port form.
func (a *UDPAddr) String() string {
	if a == nil || a.addr == nil {
		return "<nil>"
	}
	return a.addr.String()
}

// Network returns "udp".
func (a *UDPAddr) Network() string { return "udp" }

// Port returns the address's port number.
func (a *UDPAddr) Port() int {
	if a == nil || a.addr == nil {
		return 0
	}
	return a.addr.Port
}

// ResolveUDPAddr resolves address ("host:port") on network ("udp", "udp4" or "udp6"),
// like net.ResolveUDPAddr.
func ResolveUDPAddr(network, address string) (*UDPAddr, error) {
	a, err := net.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, err
	}
	return &UDPAddr{addr: a}, nil
}

// JoinHostPort combines host and port into "host:port", bracketing IPv6 hosts, like
// net.JoinHostPort.
func JoinHostPort(host, port string) string { return net.JoinHostPort(host, port) }

// SplitHostPort splits "host:port" into host and port, like net.SplitHostPort.
func SplitHostPort(hostport string) (host, port string, err error) {
	return net.SplitHostPort(hostport)
}

func unwrap(a *UDPAddr) *net.UDPAddr {
	if a == nil {
		return nil
	}
	return a.addr
}
