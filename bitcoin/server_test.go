package bitcoin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
)

// The tests of Serve run in synctest bubbles: the fake network is all channels, so a test's
// goroutines are the bubble's, time bounds cost nothing unless something hangs, and a
// goroutine left behind when the test ends makes synctest.Test fail it.

// testServer runs Serve on a fake network for the duration of the test.
func testServer(t *testing.T, cfg ServerConfig) *fakeNet {
	t.Helper()
	n := newFakeNet()
	if cfg.InitialChunk == 0 {
		cfg.InitialChunk, cfg.MinChunk, cfg.MaxChunk, cfg.ChunkTarget = 2_000, 500, 20_000, 20*time.Millisecond
	}
	cfg.TransportClosed = func(err error) bool { return errors.Is(err, errFakeClosed) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, n, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := testutil.Recv(t, done, 5*time.Second); err != nil {
			t.Errorf("Serve returned %v after cancel", err)
		}
	})
	return n
}

// startMiner runs Mine on a new connection until the test ends or the connection is closed.
func startMiner(t *testing.T, n *fakeNet, workers int) *fakeConn {
	t.Helper()
	c := n.dial()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Mine(ctx, c, MinerConfig{Workers: workers}) }()
	t.Cleanup(func() {
		cancel()
		testutil.Recv(t, done, 10*time.Second)
	})
	return c
}

// submit runs one client job and returns its answer.
func submit(t *testing.T, n *fakeNet, data string, lower, upper uint64) (hash, nonce uint64, err error) {
	t.Helper()
	c := n.dial()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Submit(ctx, c, data, lower, upper)
}

func checkAnswer(t *testing.T, data string, lower, upper, hash, nonce uint64) {
	t.Helper()
	wantHash, wantNonce := bruteForce(data, lower, upper)
	if hash != wantHash || nonce != wantNonce {
		t.Errorf("job %q [%d, %d] = (%d, %d), want (%d, %d)", data, lower, upper, hash, nonce, wantHash, wantNonce)
	}
}

func TestServeOneClientOneMiner(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := testServer(t, ServerConfig{})
		startMiner(t, n, 1)
		hash, nonce, err := submit(t, n, "bitcoin", 0, 30_000)
		if err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, "bitcoin", 0, 30_000, hash, nonce)
	})
}

func TestServeManyClientsManyMiners(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := testServer(t, ServerConfig{})
		for range 4 {
			startMiner(t, n, 2)
		}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				data := fmt.Sprintf("client-%d", i)
				upper := uint64(5_000 + 4_000*i)
				hash, nonce, err := submit(t, n, data, uint64(i), upper)
				if err != nil {
					t.Error(err)
					return
				}
				checkAnswer(t, data, uint64(i), upper, hash, nonce)
			})
		}
		wg.Wait()
	})
}

func TestServeJobsWaitForLateMiner(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := testServer(t, ServerConfig{})
		answers := make(chan error, 2)
		for _, data := range []string{"early", "bird"} {
			go func() {
				hash, nonce, err := submit(t, n, data, 0, 9_999)
				if err == nil {
					wantHash, wantNonce := bruteForce(data, 0, 9_999)
					if hash != wantHash || nonce != wantNonce {
						err = fmt.Errorf("%q: got (%d, %d), want (%d, %d)", data, hash, nonce, wantHash, wantNonce)
					}
				}
				answers <- err
			}()
		}
		// No miner yet: once everything is blocked, nothing has been answered.
		synctest.Wait()
		select {
		case err := <-answers:
			t.Fatalf("a job was answered with no miner (err %v)", err)
		default:
		}
		startMiner(t, n, 1)
		for range 2 {
			if err := testutil.Recv(t, answers, 30*time.Second); err != nil {
				t.Error(err)
			}
		}
	})
}

// A miner that takes a chunk and dies must not cost the job its chunk.
func TestServeReassignsChunkOfKilledMiner(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := testServer(t, ServerConfig{})
		dying := n.dial()
		dying.Write(NewJoin().marshal())
		answer := make(chan [2]uint64, 1)
		go func() {
			hash, nonce, err := submit(t, n, "reassign", 0, 50_000)
			if err != nil {
				t.Error(err)
			}
			answer <- [2]uint64{hash, nonce}
		}()
		// The dying miner gets the first chunk, then crashes without answering.
		p, err := dying.Read()
		if err != nil {
			t.Fatal(err)
		}
		if m, err := unmarshal(p); err != nil || m.Type != Request || m.Lower != 0 {
			t.Fatalf("dying miner got %v, %v; want the first chunk", m, err)
		}
		dying.Close()
		startMiner(t, n, 2)
		got := testutil.Recv(t, answer, 30*time.Second)
		checkAnswer(t, "reassign", 0, 50_000, got[0], got[1])
	})
}

// A client that dies mid-job has its job dropped while other clients are still served.
func TestServeAbandonsJobOfKilledClient(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := testServer(t, ServerConfig{})
		quitter := n.dial()
		quitter.Write(NewRequest("gone", 0, 1<<40).marshal()) // far too big to ever finish here
		startMiner(t, n, 1)
		startMiner(t, n, 1)
		hash, nonce, err := submit(t, n, "stays", 0, 20_000)
		if err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, "stays", 0, 20_000, hash, nonce)
		quitter.Close()
		// With the huge job dropped the miners are free again: a new job is answered promptly.
		testutil.Within(t, 30*time.Second, "a job after the abandoned one", func() {
			hash, nonce, err = submit(t, n, "after", 0, 20_000)
		})
		if err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, "after", 0, 20_000, hash, nonce)
	})
}

// Every kind of protocol violation closes that connection; the server keeps serving others.
func TestServeRejectsBadInput(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := testServer(t, ServerConfig{})
		miner := n.dial()
		miner.Write(NewJoin().marshal())

		cases := []struct {
			name    string
			payload []byte
			asMiner bool
		}{
			{"malformed JSON", []byte(`{"Type":`), false},
			{"unknown type", []byte(`{"Type":7}`), false},
			{"empty payload", nil, false},
			{"result from non-miner", NewResult(1, 2).marshal(), false},
			{"request with lower > upper", []byte(`{"Type":1,"Data":"x","Lower":9,"Upper":3}`), false},
			{"request from a miner", NewRequest("x", 0, 10).marshal(), true},
		}
		var bad []int
		for _, tc := range cases {
			c := miner
			if !tc.asMiner {
				c = n.dial()
			}
			c.Write(tc.payload)
			bad = append(bad, c.id)
		}
		synctest.Wait() // the server has handled everything sent
		closed := n.closedByServer()
		for i, id := range bad {
			if !slices.Contains(closed, id) {
				t.Errorf("%s: connection %d not closed", cases[i].name, id)
			}
		}

		startMiner(t, n, 1)
		hash, nonce, err := submit(t, n, "still serving", 0, 5_000)
		if err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, "still serving", 0, 5_000, hash, nonce)
	})
}

func TestServeStopsWhenTransportCloses(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet()
		done := make(chan error, 1)
		go func() {
			done <- Serve(context.Background(), n, ServerConfig{
				TransportClosed: func(err error) bool { return errors.Is(err, errFakeClosed) },
			})
		}()
		n.Close()
		if err := testutil.Recv(t, done, 5*time.Second); !errors.Is(err, ErrTransportClosed) {
			t.Fatalf("Serve = %v, want ErrTransportClosed", err)
		}
	})
}

func TestSubmitReportsLostServer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet()
		c := n.dial()
		go func() {
			// The server takes the request, then the connection dies.
			in := <-n.inbox
			n.CloseConn(in.conn)
		}()
		_, _, err := Submit(context.Background(), c, "x", 0, 10)
		if !errors.Is(err, ErrDisconnected) {
			t.Fatalf("Submit = %v, want ErrDisconnected", err)
		}
	})
}

func TestMineStopsOnCancelAndOnLostServer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Mine(ctx, n.dial(), MinerConfig{}) }()
		cancel()
		if err := testutil.Recv(t, done, 5*time.Second); err != nil {
			t.Fatalf("Mine after cancel = %v, want nil", err)
		}

		c := n.dial()
		go func() { done <- Mine(context.Background(), c, MinerConfig{}) }()
		n.CloseConn(c.id)
		if err := testutil.Recv(t, done, 5*time.Second); !errors.Is(err, ErrDisconnected) {
			t.Fatalf("Mine after lost server = %v, want ErrDisconnected", err)
		}
	})
}

func TestScanParallelMatchesScan(t *testing.T) {
	t.Parallel()
	cases := []struct {
		lower, upper uint64
		workers      int
	}{
		{0, 0, 4}, {0, 10, 4}, {5, 100_000, 3}, {1, 65_537, 8}, {0, 200_000, 1},
		{^uint64(0) - 50_000, ^uint64(0), 4},
	}
	for _, tc := range cases {
		gotH, gotN, ok := ScanParallel("par", tc.lower, tc.upper, tc.workers, nil)
		wantH, wantN, _ := Scan("par", tc.lower, tc.upper, nil)
		if !ok || gotH != wantH || gotN != wantN {
			t.Errorf("ScanParallel([%d, %d], %d workers) = (%d, %d, %v), want (%d, %d)",
				tc.lower, tc.upper, tc.workers, gotH, gotN, ok, wantH, wantN)
		}
	}
}
