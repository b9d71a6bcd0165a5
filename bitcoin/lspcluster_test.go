package bitcoin_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"ds440/bitcoin"
	"ds440/bitcoin/internal/lspflag"
	"ds440/internal/testutil"
	"ds440/lsp"
)

// lspCluster is a bitcoin server and its miners in this process, over real LSP on loopback.
type lspCluster struct {
	addr   string
	params *lsp.Params
	stop   func() // ends Serve and the miners and waits for them
	served error  // what Serve returned, once stop has returned
}

// startLSPCluster starts Serve on a free UDP port with cfg and n single-worker miners. The
// cluster is stopped when the test ends, or earlier by calling stop.
func startLSPCluster(tb testing.TB, params *lsp.Params, cfg bitcoin.ServerConfig, n int) *lspCluster {
	tb.Helper()
	port := testutil.FreeUDPPort(tb)
	srv, err := lsp.NewServer(port, params)
	if err != nil {
		tb.Fatal(err)
	}
	c := &lspCluster{addr: fmt.Sprintf("127.0.0.1:%d", port), params: params}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	cfg.TransportClosed = lspflag.TransportClosed
	wg.Go(func() { c.served = bitcoin.Serve(ctx, srv, cfg) })
	for i := range n {
		conn, err := lsp.NewClient(c.addr, 100*i, params)
		if err != nil {
			cancel()
			tb.Fatal(err)
		}
		wg.Go(func() { bitcoin.Mine(ctx, conn, bitcoin.MinerConfig{Workers: 1}) })
	}
	var once sync.Once
	c.stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	tb.Cleanup(c.stop)
	return c
}

// dial opens a client connection to the cluster.
func (c *lspCluster) dial(initialSeq int) (lsp.Client, error) {
	return lsp.NewClient(c.addr, initialSeq, c.params)
}
