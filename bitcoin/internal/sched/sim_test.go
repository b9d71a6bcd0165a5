package sched

import (
	"container/heap"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// SimJob is one job of a simulated workload: Size nonces submitted At after the start.
type SimJob struct {
	At   time.Duration
	Size uint64
}

// SimResult summarises the response times (answer time minus submission time) of a workload.
type SimResult struct {
	Mean, P50, P99, Max time.Duration
}

// MixedWorkload returns n jobs arriving every gap: mostly small, with every tenth one huge.
// It is deterministic for a given seed, so policies are compared on the very same load.
func MixedWorkload(n int, gap time.Duration, small, huge uint64, seed uint64) []SimJob {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	jobs := make([]SimJob, n)
	for i := range jobs {
		size := small/2 + uint64(rng.Int64N(int64(small)))
		if i%10 == 0 {
			size = huge
		}
		jobs[i] = SimJob{At: time.Duration(i) * gap, Size: size}
	}
	return jobs
}

// Simulate runs workload through a Scheduler with cfg on miners of the given speeds (nonces per
// second), in virtual time: no hashing, no sleeping. It is how scheduling policies are measured
// against each other.
func Simulate(cfg Config, speeds []float64, workload []SimJob) SimResult {
	s := New(cfg)
	start := time.Unix(0, 0)
	var events eventQueue
	for i, j := range workload {
		heap.Push(&events, simEvent{at: j.At, client: i, job: true})
	}
	minerSpeed := map[int]float64{}
	submitted := map[int]time.Duration{}
	var response []time.Duration
	apply := func(now time.Duration, acts Actions) {
		for _, a := range acts.Assign {
			work := time.Duration(float64(a.Upper-a.Lower+1) / minerSpeed[a.Miner] * float64(time.Second))
			heap.Push(&events, simEvent{at: now + work, miner: a.Miner, lower: a.Lower})
		}
		for _, ans := range acts.Answers {
			response = append(response, now-submitted[ans.Client])
		}
	}
	for i, v := range speeds {
		id := len(workload) + i
		minerSpeed[id] = v
		acts, _ := s.AddMiner(id, start)
		apply(0, acts)
	}
	for events.Len() > 0 {
		e := heap.Pop(&events).(simEvent)
		now := start.Add(e.at)
		if e.job {
			submitted[e.client] = e.at
			acts, _ := s.AddJob(e.client, "sim", 0, workload[e.client].Size-1, now)
			apply(e.at, acts)
			continue
		}
		acts, _ := s.MinerResult(e.miner, 0, e.lower, now)
		apply(e.at, acts)
	}
	return summarise(response)
}

func summarise(d []time.Duration) SimResult {
	if len(d) == 0 {
		return SimResult{}
	}
	slices.Sort(d)
	var total time.Duration
	for _, x := range d {
		total += x
	}
	pick := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return SimResult{Mean: total / time.Duration(len(d)), P50: pick(0.50), P99: pick(0.99), Max: d[len(d)-1]}
}

type simEvent struct {
	at     time.Duration
	job    bool // a job arrives (else a miner finishes its chunk)
	client int
	miner  int
	lower  uint64
}

type eventQueue []simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].job && !q[j].job
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// The workload used for policy comparisons: 200 jobs, one every 250 ms, on four 10 M/s miners;
// small jobs are ~5 M nonces (half a second of one miner), every tenth is 80 M (2 s of the whole
// cluster). That is 2.5e9 nonces in 50 s on a 40 M/s cluster: about 85% busy, not saturated.
var (
	policySpeeds   = []float64{10e6, 10e6, 10e6, 10e6}
	policyWorkload = MixedWorkload(200, 250*time.Millisecond, 5_000_000, 80_000_000, 42)
)

func TestSimulateFairBeatsFIFOOnMixedLoad(t *testing.T) {
	t.Parallel()
	fair := Simulate(Config{Policy: PolicyFair}, policySpeeds, policyWorkload)
	fifo := Simulate(Config{Policy: PolicyFIFO}, policySpeeds, policyWorkload)
	t.Logf("fair: mean %v p99 %v; fifo: mean %v p99 %v", fair.Mean, fair.P99, fifo.Mean, fifo.P99)
	if fair.Mean*2 > fifo.Mean {
		t.Errorf("fair mean response %v is not at least 2x better than FIFO's %v", fair.Mean, fifo.Mean)
	}
	// No starvation: a huge job gets at least a quarter of the cluster, so 8 s of quarter-cluster
	// work plus queueing stays far below the whole run's length.
	if fair.Max > 30*time.Second {
		t.Errorf("fair policy max response %v: some job starved", fair.Max)
	}
}

func TestSimulateAnswersEveryJob(t *testing.T) {
	t.Parallel()
	jobs := MixedWorkload(30, 50*time.Millisecond, 1000, 100_000, 7)
	r := Simulate(Config{}, []float64{1e6}, jobs)
	if r.Mean <= 0 || r.Max < r.P99 || r.P99 < r.P50 {
		t.Fatalf("implausible summary %+v", r)
	}
}

// BenchmarkPolicyFairVsFIFO simulates the same mixed workload under both policies and reports
// mean and p99 response times and the FIFO/fair ratios (higher is better for the fair policy).
func BenchmarkPolicyFairVsFIFO(b *testing.B) {
	var fair, fifo SimResult
	for b.Loop() {
		fair = Simulate(Config{Policy: PolicyFair}, policySpeeds, policyWorkload)
		fifo = Simulate(Config{Policy: PolicyFIFO}, policySpeeds, policyWorkload)
	}
	b.ReportMetric(fair.Mean.Seconds(), "fair-mean-s")
	b.ReportMetric(fair.P99.Seconds(), "fair-p99-s")
	b.ReportMetric(fifo.Mean.Seconds(), "fifo-mean-s")
	b.ReportMetric(fifo.P99.Seconds(), "fifo-p99-s")
	b.ReportMetric(fifo.Mean.Seconds()/fair.Mean.Seconds(), "mean-x-fifo")
	b.ReportMetric(fifo.P99.Seconds()/fair.P99.Seconds(), "p99-x-fifo")
}
