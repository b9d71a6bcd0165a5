package bitcoin

import (
	"container/heap"
	"math/rand/v2"
	"slices"
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
func Simulate(cfg SchedulerConfig, speeds []float64, workload []SimJob) SimResult {
	s := NewScheduler(cfg)
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
