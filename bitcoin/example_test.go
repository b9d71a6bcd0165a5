package bitcoin_test

import (
	"context"
	"fmt"
	"sync"

	"ds440/bitcoin"
	"ds440/lsp"
)

// A server, one miner and one client in one process, over LSP on loopback: the client's job is
// answered with the nonce of smallest hash, the same answer a plain Scan of the range gives.
func Example() {
	srv, err := lsp.NewServer(0, nil) // 0: any free UDP port
	if err != nil {
		fmt.Println(err)
		return
	}
	addr := any(srv).(interface{ Addr() string }).Addr()

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop() // ends Serve (which closes srv) and Mine (which closes its connection)
	wg.Go(func() { bitcoin.Serve(ctx, srv, bitcoin.ServerConfig{}) })

	miner, err := lsp.NewClient(addr, 1, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	wg.Go(func() { bitcoin.Mine(ctx, miner, bitcoin.MinerConfig{}) })

	client, err := lsp.NewClient(addr, 1, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	hash, nonce, err := bitcoin.Submit(ctx, client, "hello", 0, 99_999)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Result", hash, nonce)

	wantHash, wantNonce, _ := bitcoin.Scan("hello", 0, 99_999, nil)
	fmt.Println("same as a local scan:", hash == wantHash && nonce == wantNonce)
	// Output:
	// Result 25970532840265 4361
	// same as a local scan: true
}
