package bitcoin_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"ds440/bitcoin"
	"ds440/lsp"
)

// BenchmarkClusterScaling runs one job on a real LSP cluster on loopback with 1 and then with
// N single-worker miners (N = the cores available) and reports the cluster hash rate of each and
// their ratio, which should approach N when nothing else runs on the machine.
func BenchmarkClusterScaling(b *testing.B) {
	const nonces = 20_000_000
	one := clusterRate(b, 1, nonces)
	n := max(2, runtime.NumCPU())
	many := clusterRate(b, n, nonces)
	b.ReportMetric(one/1e6, "Mhash/s-1-miner")
	b.ReportMetric(many/1e6, fmt.Sprintf("Mhash/s-%d-miners", n))
	b.ReportMetric(many/one, "x-1-miner")
	b.Logf("cluster: 1 miner %.2f M hashes/s, %d miners %.2f M hashes/s, ratio %.2f (ideal %d)", one/1e6, n, many/1e6, many/one, n)
}

// clusterRate mines b.N jobs of the given size on a cluster of miners and returns hashes/s.
func clusterRate(b *testing.B, miners int, nonces uint64) float64 {
	params := &lsp.Params{EpochLimit: 20, EpochMillis: 50, WindowSize: 8, MaxBackOffInterval: 4, MaxUnackedMessages: 8}
	cluster := startLSPCluster(b, nil, params, bitcoin.ServerConfig{
		ChunkTarget: 250 * time.Millisecond,
	}, miners)
	defer cluster.stop()
	conn, err := cluster.dial(1000)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	// A warm-up job lets the scheduler learn each miner's speed, as on a long-running cluster.
	bitcoin.Submit(ctx, conn, "warm-up", 0, nonces/4)
	start := time.Now()
	for i := range b.N {
		if _, _, err := bitcoin.Submit(ctx, conn, fmt.Sprint("bench ", i), 0, nonces-1); err != nil {
			b.Fatal(err)
		}
	}
	return float64(nonces) * float64(b.N) / time.Since(start).Seconds()
}
