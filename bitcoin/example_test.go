package bitcoin_test

import (
	"fmt"
	"time"

	"ds440/bitcoin"
)

// A scheduler with one miner and one job: the miner's answer completes the job.
func Example() {
	s := bitcoin.NewScheduler(bitcoin.SchedulerConfig{})
	now := time.Now()
	s.AddMiner(1, now)
	acts, _ := s.AddJob(2, "hello", 0, 999, now)
	a := acts.Assign[0]
	fmt.Printf("miner %d gets %q [%d, %d]\n", a.Miner, a.Data, a.Lower, a.Upper)

	hash, nonce, _ := bitcoin.Scan(a.Data, a.Lower, a.Upper, nil)
	acts, _ = s.MinerResult(a.Miner, hash, nonce, now.Add(time.Millisecond))
	ans := acts.Answers[0]
	fmt.Println("client", ans.Client, "answered:", ans.Hash == bitcoin.Hash("hello", ans.Nonce))
	// Output:
	// miner 1 gets "hello" [0, 999]
	// client 2 answered: true
}
