package bitcoin_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"ds440/bitcoin"
	"ds440/internal/testutil"
	"ds440/lsp"
	"ds440/lsp/lspnet"
)

// The server, miners and clients in one process over LSP on an in-memory network that loses
// 10% of the datagrams in every direction: every answer must still equal a plain scan. The
// test runs in a synctest bubble, so LSP's epochs pass in fake time and a machine too busy to
// schedule the test for a while cannot make a connection look lost.
func TestLSPClusterUnderLoss(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testLSPClusterUnderLoss)
}

func testLSPClusterUnderLoss(t *testing.T) {
	nw := lspnet.NewMemNetwork()
	nw.SetClientReadDropPercent(10)
	nw.SetClientWriteDropPercent(10)
	nw.SetServerReadDropPercent(10)
	nw.SetServerWriteDropPercent(10)

	params := &lsp.Params{EpochLimit: 20, EpochMillis: 20, WindowSize: 8, MaxBackOffInterval: 2, MaxUnackedMessages: 8}
	cluster := startLSPCluster(t, nw, params, bitcoin.ServerConfig{
		InitialChunk: 5_000, MinChunk: 1_000, ChunkTarget: 50 * time.Millisecond,
	}, 3)

	var clients sync.WaitGroup
	for i := range 5 {
		clients.Go(func() {
			conn, err := cluster.dial(1000 + i)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			data := fmt.Sprintf("lossy-%d", i)
			upper := uint64(10_000 + 7_000*i)
			callCtx, done := context.WithTimeout(context.Background(), 60*time.Second)
			defer done()
			hash, nonce, err := bitcoin.Submit(callCtx, conn, data, 0, upper)
			if err != nil {
				t.Errorf("%s: %v", data, err)
				return
			}
			wantHash, wantNonce, _ := bitcoin.Scan(data, 0, upper, nil)
			if hash != wantHash || nonce != wantNonce {
				t.Errorf("%s = (%d, %d), want (%d, %d)", data, hash, nonce, wantHash, wantNonce)
			}
		})
	}
	clients.Wait()
	testutil.Within(t, 30*time.Second, "server and miners stop", cluster.stop)
	if cluster.served != nil {
		t.Errorf("Serve = %v", cluster.served)
	}
}
