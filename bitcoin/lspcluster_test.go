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
	"ds440/lsp/lspnet"
)

// lspCluster is a bitcoin server and its miners in this process, over LSP: on loopback, or on
// an in-memory network that a synctest bubble can run in fake time.
type lspCluster struct {
	addr   string
	params *lsp.Params
	opts   []lsp.Option // the network clients dial on
	stop   func()       // ends Serve and the miners and waits for them
	served error        // what Serve returned, once stop has returned
}

// startLSPCluster starts Serve with cfg and n single-worker miners on nw, or on a free UDP port
// of loopback if nw is nil. The cluster is stopped when the test ends, or earlier by calling
// stop.
func startLSPCluster(tb testing.TB, nw *lspnet.Network, params *lsp.Params, cfg bitcoin.ServerConfig, n int) *lspCluster {
	tb.Helper()
	c := &lspCluster{params: params}
	var srv lsp.Server
	var err error
	if nw == nil {
		port := testutil.FreeUDPPort(tb)
		c.addr = fmt.Sprintf("127.0.0.1:%d", port)
		srv, err = lsp.NewServer(port, params)
	} else {
		c.opts = []lsp.Option{lsp.WithDial(nw.DialUDP)}
		srv, err = lsp.NewServerWith(0, params, lsp.WithListen(nw.ListenUDP))
		if err == nil {
			_, port, _ := lspnet.SplitHostPort(srv.(interface{ Addr() string }).Addr())
			c.addr = lspnet.JoinHostPort("127.0.0.1", port)
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	cfg.TransportClosed = lspflag.TransportClosed
	wg.Go(func() { c.served = bitcoin.Serve(ctx, srv, cfg) })
	for i := range n {
		conn, err := c.dial(100 * i)
		if err != nil {
			cancel()
			wg.Wait()
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
	return lsp.NewClientWith(c.addr, initialSeq, c.params, c.opts...)
}
