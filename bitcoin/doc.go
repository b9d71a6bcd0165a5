// Package bitcoin is a distributed proof-of-work miner on LSP: clients submit jobs to a server,
// which splits them into chunks and spreads the chunks over miners that may join and die at any
// time.
//
// A job is (message, maxNonce): find the nonce in [0, maxNonce] whose Hash is smallest, ties
// going to the smaller nonce, so every job has exactly one answer. Messages travel as the JSON
// form of Message inside one LSP payload.
//
// # Use
//
// Serve runs the server on any ServerTransport (an lsp.Server is one); Mine runs a miner and
// Submit sends one job, each on a Conn (an lsp.Client is one). The package does not import
// lsp: tests run it over an in-memory network, and the programs in cmd/ wire it to LSP. The
// Example runs all three in one process.
//
// # Scheduling
//
// Each miner holds one chunk at a time, sized from its measured speed so that a chunk takes
// about a second (ServerConfig.ChunkTarget): a new miner's first chunk is small, later ones
// follow a smoothed rate, so fast and slow miners both stay busy and a lost miner costs at most
// about a second of work.
//
// The next free miner gets a chunk of the job with the least remaining work (shortest
// remaining work first, which minimises mean response time: a small job is never stuck behind
// a huge one), except that every fourth chunk goes to the oldest job, so a huge job keeps at
// least a quarter of the cluster while small jobs keep arriving and is never starved. On a
// mixed workload this lowers the mean response time against FIFO (BenchmarkPolicyFairVsFIFO in
// internal/sched simulates both policies in virtual time; docs/PERFORMANCE.md has the figures);
// the price is paid by the huge jobs, whose completion (the p99) comes later than under FIFO.
// The rules live in internal/sched, a pure state machine with no goroutine, clock or network;
// Serve's event loop feeds it and carries out what it returns.
//
// A lost miner's chunk goes back to the front of its job; a lost client's job is dropped with
// its queued chunks, and results for its chunks still at miners are discarded when they arrive.
// A job is answered once results cover every one of its nonces, so no chunk is lost or counted
// twice. With no miner connected, jobs wait; a miner that joins later picks them up.
//
// A miner is lost when its transport says so: over LSP, after EpochLimit epochs without a
// heartbeat. The programs (cmd/server, cmd/miner, cmd/client) default to 200 ms epochs and a
// limit of 5, so a killed miner is noticed, and its chunk handed on, within about a second;
// -epoch and -epoch-limit change both, and both ends of a connection should agree on them.
//
// # Mining
//
// Scan is the miner's hot loop: the "<msg> " prefix is written once and the decimal nonce is
// advanced in place, so no iteration formats or allocates (see BenchmarkScanVsPlainSHA256).
package bitcoin
