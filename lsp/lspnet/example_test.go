package lspnet_test

import (
	"fmt"

	"ds440/lsp/lspnet"
)

// A server and a client socket on loopback, with every datagram the client writes lost.
func Example() {
	defer lspnet.ResetDropPercent()

	laddr, _ := lspnet.ResolveUDPAddr("udp", "127.0.0.1:0")
	srv, _ := lspnet.ListenUDP("udp", laddr)
	defer srv.Close()
	cli, _ := lspnet.DialUDP("udp", nil, srv.LocalAddr())
	defer cli.Close()

	lost := 0
	restore := lspnet.SetTap(func(d lspnet.Datagram) {
		if d.Dropped {
			lost++
		}
	})
	defer restore()

	lspnet.SetClientWriteDropPercent(100)
	cli.Write([]byte("into the void"))
	lspnet.SetClientWriteDropPercent(0)
	cli.Write([]byte("hello"))

	buf := make([]byte, 64)
	n, from, _ := srv.ReadFromUDP(buf)
	fmt.Println(string(buf[:n]), from.String() == cli.LocalAddr().String(), lost)
	// Output: hello true 1
}
