package lsp_test

import (
	"fmt"
	"log"

	"ds440/lsp"
	"ds440/lsp/lspnet"
)

// A server and a client on loopback: the client sends two messages, the server echoes them.
func Example() {
	params := &lsp.Params{EpochLimit: 5, EpochMillis: 100, WindowSize: 8, MaxBackOffInterval: 2, MaxUnackedMessages: 8}
	server, err := lsp.NewServer(0, params) // port 0: the system picks a free one
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	addr := server.(interface{ Addr() string }).Addr()
	_, port, _ := lspnet.SplitHostPort(addr)

	client, err := lsp.NewClient("127.0.0.1:"+port, 0, params)
	if err != nil {
		log.Fatal(err)
	}
	go func() { // echo
		for {
			id, payload, err := server.Read()
			if err != nil {
				return
			}
			server.Write(id, payload)
		}
	}()
	for _, msg := range []string{"hello", "world"} {
		client.Write([]byte(msg))
	}
	for range 2 {
		payload, err := client.Read()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(payload))
	}
	if err := client.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hello
	// world
}
