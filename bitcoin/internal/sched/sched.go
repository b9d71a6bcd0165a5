// Package sched is the bitcoin server's scheduling logic as a pure state machine: events in (a
// client's request, a miner joining, a result, a lost miner or client), requests and answers out.
// bitcoin.Serve's event loop feeds it and carries out what it returns. Its tests and the policy
// simulator (sim_test.go, BenchmarkPolicyFairVsFIFO) drive it without a network or a clock.
package sched

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Policy chooses which job the next free miner works on.
type Policy int

const (
	// PolicyFair runs the job with the least remaining work first (shortest remaining work,
	// which minimises mean response time) but gives every FairShareEvery-th chunk to the oldest
	// job, so a huge job keeps moving while small ones overtake it. The default.
	PolicyFair Policy = iota
	// PolicyFIFO runs jobs in arrival order: the baseline the fair policy is measured against.
	PolicyFIFO
)

// Config tunes a Scheduler. The zero value of a field means its default.
type Config struct {
	Policy         Policy
	ChunkTarget    time.Duration // how long one chunk should take a miner; default 1s
	InitialChunk   uint64        // nonces in a new miner's first chunk, before its speed is known; default 250,000
	MinChunk       uint64        // default 10,000
	MaxChunk       uint64        // default 1<<32
	FairShareEvery int           // PolicyFair: every n-th assignment goes to the oldest job; default 4
}

func (c Config) withDefaults() Config {
	if c.ChunkTarget <= 0 {
		c.ChunkTarget = time.Second
	}
	if c.MinChunk == 0 {
		c.MinChunk = 10_000
	}
	if c.MaxChunk == 0 {
		c.MaxChunk = 1 << 32
	}
	if c.MaxChunk < c.MinChunk {
		c.MaxChunk = c.MinChunk
	}
	if c.InitialChunk == 0 {
		c.InitialChunk = 250_000
	}
	c.InitialChunk = min(max(c.InitialChunk, c.MinChunk), c.MaxChunk)
	if c.FairShareEvery <= 0 {
		c.FairShareEvery = 4
	}
	return c
}

// Assignment tells the server to send miner a Request for [Lower, Upper] of Data.
type Assignment struct {
	Miner        int
	Data         string
	Lower, Upper uint64
}

// Answer tells the server to send client its job's Result.
type Answer struct {
	Client      int
	Hash, Nonce uint64
}

// Actions is what the server must do after an event: send these requests and these results.
type Actions struct {
	Assign  []Assignment
	Answers []Answer
}

// nonceRange is an inclusive range of nonces, [lo, hi].
type nonceRange struct{ lo, hi uint64 }

// size is the number of nonces in r, saturated at MaxUint64 (the full range has 2^64).
func (r nonceRange) size() uint64 {
	if r.hi-r.lo == math.MaxUint64 {
		return math.MaxUint64
	}
	return r.hi - r.lo + 1
}

type job struct {
	client    int
	data      string
	seq       uint64       // arrival order
	todo      []nonceRange // unassigned ranges, front first
	remaining uint64       // nonces in todo, saturated
	inFlight  int          // chunks out at miners
	bestHash  uint64
	bestNonce uint64
	start     time.Time // when the job arrived
	total     uint64    // nonces in the job, saturated
	done      uint64    // nonces covered by results, saturated
	chunks    int       // results merged
}

type miner struct {
	id       int
	seq      uint64 // join order, so free miners are served deterministically
	job      *job   // the job of the chunk it holds, nil when idle
	chunk    nonceRange
	since    time.Time // when the chunk was assigned
	rate     float64   // measured nonces per second; 0 until the first result
	orphaned bool      // its chunk's job was abandoned: the result is discarded
}

// Scheduler is the server's scheduling logic as a pure state machine: events in (a client's
// request, a miner joining, a result, a lost miner or client), requests and answers out. It
// holds no goroutine, clock or connection, so every rule is tested table-driven; the server's
// event loop feeds it and carries out the Actions it returns. Times are passed in.
//
// Each miner holds at most one chunk. Chunk size follows the miner's measured speed so a chunk
// takes about ChunkTarget. A lost miner's chunk goes back to the front of its job; a lost client's
// job is dropped with its queued chunks, and chunks of it still at miners are discarded when they
// come back. A job is answered once all of its nonces are covered by results, with the minimum
// hash (ties to the smaller nonce).
type Scheduler struct {
	cfg     Config
	jobs    map[int]*job   // by client
	miners  map[int]*miner // by miner id
	nextSeq uint64
	assigns int    // assignments made, for the fair share rotation
	hashed  uint64 // nonces covered by every result ever received, saturated
}

// Hashed reports how many nonces miners have scanned in all, counting every result received,
// also for jobs since answered or abandoned: the cluster's work, for hash-rate logs.
func (s *Scheduler) Hashed() uint64 { return s.hashed }

// New returns an empty scheduler.
func New(cfg Config) *Scheduler {
	return &Scheduler{cfg: cfg.withDefaults(), jobs: map[int]*job{}, miners: map[int]*miner{}}
}

// Jobs reports how many jobs are unanswered.
func (s *Scheduler) Jobs() int { return len(s.jobs) }

// Miners reports how many miners are connected, and how many of them hold a chunk.
func (s *Scheduler) Miners() (total, busy int) {
	for _, m := range s.miners {
		if m.job != nil || m.orphaned {
			busy++
		}
	}
	return len(s.miners), busy
}

// JobProgress describes one unanswered job, for progress logs.
type JobProgress struct {
	Client       int
	Data         string
	Start        time.Time // when the job arrived
	Total, Done  uint64    // nonces in the job, and nonces covered by results so far
	ChunksDone   int       // results merged into the job
	ChunksOut    int       // chunks held by miners now
	QueuedRanges int       // unassigned ranges waiting for a miner
}

// Progress lists the unanswered jobs in arrival order.
func (s *Scheduler) Progress() []JobProgress {
	js := make([]*job, 0, len(s.jobs))
	for _, j := range s.jobs {
		js = append(js, j)
	}
	slices.SortFunc(js, func(a, b *job) int { return cmp.Compare(a.seq, b.seq) })
	ps := make([]JobProgress, len(js))
	for i, j := range js {
		ps[i] = JobProgress{
			Client: j.client, Data: j.data, Start: j.start, Total: j.total, Done: j.done,
			ChunksDone: j.chunks, ChunksOut: j.inFlight, QueuedRanges: len(j.todo),
		}
	}
	return ps
}

// IsMiner reports whether id joined as a miner.
func (s *Scheduler) IsMiner(id int) bool { _, ok := s.miners[id]; return ok }

// HasJob reports whether client has an unanswered job.
func (s *Scheduler) HasJob(client int) bool { _, ok := s.jobs[client]; return ok }

// AddJob queues client's request to search [lower, upper] of data. A client has at most one
// job at a time: a second request while one is pending is ignored (ok == false), as is an
// empty range or an id that is a miner.
func (s *Scheduler) AddJob(client int, data string, lower, upper uint64, now time.Time) (acts Actions, ok bool) {
	if lower > upper || s.IsMiner(client) || s.HasJob(client) {
		return acts, false
	}
	s.nextSeq++
	r := nonceRange{lower, upper}
	s.jobs[client] = &job{
		client: client, data: data, seq: s.nextSeq,
		todo: []nonceRange{r}, remaining: r.size(),
		bestHash: math.MaxUint64, bestNonce: math.MaxUint64,
		start: now, total: r.size(),
	}
	return s.dispatch(now), true
}

// AddMiner registers a miner that has joined. A repeated Join, or a Join from a client with a
// pending job, is ignored (ok == false).
func (s *Scheduler) AddMiner(id int, now time.Time) (acts Actions, ok bool) {
	if s.IsMiner(id) || s.HasJob(id) {
		return acts, false
	}
	s.nextSeq++
	s.miners[id] = &miner{id: id, seq: s.nextSeq}
	return s.dispatch(now), true
}

// MinerResult records a miner's answer for the chunk it holds. A result from an id that is not a
// miner, or from a miner holding no chunk, is ignored (ok == false).
func (s *Scheduler) MinerResult(id int, hash, nonce uint64, now time.Time) (acts Actions, ok bool) {
	m := s.miners[id]
	if m == nil || (m.job == nil && !m.orphaned) {
		return acts, false
	}
	if elapsed := now.Sub(m.since).Seconds(); elapsed > 0 {
		rate := float64(m.chunk.size()) / elapsed
		if m.rate == 0 {
			m.rate = rate
		} else {
			m.rate = 0.5*m.rate + 0.5*rate // smooth out a chunk slowed by a busy machine
		}
	}
	s.hashed = satAdd(s.hashed, m.chunk.size())
	j := m.job
	m.job, m.orphaned = nil, false
	if j != nil && nonce >= m.chunk.lo && nonce <= m.chunk.hi {
		if Better(hash, nonce, j.bestHash, j.bestNonce) {
			j.bestHash, j.bestNonce = hash, nonce
		}
		j.done = satAdd(j.done, m.chunk.size())
		j.chunks++
	} else if j != nil {
		// A nonce outside the chunk is a broken miner: redo the chunk elsewhere.
		s.requeue(j, m.chunk)
	}
	if j != nil {
		j.inFlight--
		if j.inFlight == 0 && len(j.todo) == 0 {
			delete(s.jobs, j.client)
			acts.Answers = append(acts.Answers, Answer{Client: j.client, Hash: j.bestHash, Nonce: j.bestNonce})
		}
	}
	more := s.dispatch(now)
	acts.Assign = more.Assign
	return acts, true
}

// MinerLost forgets a miner; its unfinished chunk goes back to the front of its job.
func (s *Scheduler) MinerLost(id int, now time.Time) Actions {
	m := s.miners[id]
	if m == nil {
		return Actions{}
	}
	delete(s.miners, id)
	if j := m.job; j != nil {
		j.inFlight--
		s.requeue(j, m.chunk)
	}
	return s.dispatch(now)
}

// ClientLost abandons the client's job: its queued chunks are dropped, and chunks still at miners
// are discarded when their results arrive.
func (s *Scheduler) ClientLost(client int) {
	j := s.jobs[client]
	if j == nil {
		return
	}
	delete(s.jobs, client)
	for _, m := range s.miners {
		if m.job == j {
			m.job, m.orphaned = nil, true
		}
	}
}

// Lost handles a lost connection, whichever role it had.
func (s *Scheduler) Lost(id int, now time.Time) Actions {
	if s.IsMiner(id) {
		return s.MinerLost(id, now)
	}
	s.ClientLost(id)
	return Actions{}
}

func (s *Scheduler) requeue(j *job, r nonceRange) {
	j.todo = append([]nonceRange{r}, j.todo...)
	j.remaining = satAdd(j.remaining, r.size())
}

// dispatch hands a chunk to every idle miner while there is work, idle miners in join order.
func (s *Scheduler) dispatch(now time.Time) (acts Actions) {
	for {
		m := s.idleMiner()
		if m == nil {
			return acts
		}
		j := s.pickJob()
		if j == nil {
			return acts
		}
		r := s.take(j, s.chunkSize(m))
		m.job, m.chunk, m.since = j, r, now
		j.inFlight++
		s.assigns++
		acts.Assign = append(acts.Assign, Assignment{Miner: m.id, Data: j.data, Lower: r.lo, Upper: r.hi})
	}
}

func (s *Scheduler) idleMiner() *miner {
	var best *miner
	for _, m := range s.miners {
		if m.job == nil && !m.orphaned && (best == nil || m.seq < best.seq) {
			best = m
		}
	}
	return best
}

// pickJob applies the policy to the jobs that still have unassigned nonces.
func (s *Scheduler) pickJob() *job {
	var oldest, shortest *job
	for _, j := range s.jobs {
		if len(j.todo) == 0 {
			continue
		}
		if oldest == nil || j.seq < oldest.seq {
			oldest = j
		}
		if shortest == nil || j.remaining < shortest.remaining ||
			(j.remaining == shortest.remaining && j.seq < shortest.seq) {
			shortest = j
		}
	}
	if s.cfg.Policy == PolicyFIFO || s.assigns%s.cfg.FairShareEvery == s.cfg.FairShareEvery-1 {
		return oldest
	}
	return shortest
}

// chunkSize is how many nonces m should get so that its chunk takes about ChunkTarget.
func (s *Scheduler) chunkSize(m *miner) uint64 {
	if m.rate == 0 {
		return s.cfg.InitialChunk
	}
	n := m.rate * s.cfg.ChunkTarget.Seconds()
	if n >= float64(s.cfg.MaxChunk) {
		return s.cfg.MaxChunk
	}
	return max(uint64(n), s.cfg.MinChunk)
}

// take removes up to n nonces from the front of j's unassigned ranges.
func (s *Scheduler) take(j *job, n uint64) nonceRange {
	r := j.todo[0]
	if r.size() <= n {
		j.todo = j.todo[1:]
	} else {
		r.hi = r.lo + n - 1
		j.todo[0].lo = r.hi + 1
	}
	if j.remaining != math.MaxUint64 {
		j.remaining -= r.size()
	} else {
		j.remaining = sumSizes(j.todo)
	}
	return r
}

func sumSizes(rs []nonceRange) uint64 {
	var total uint64
	for _, r := range rs {
		total = satAdd(total, r.size())
	}
	return total
}

// Better reports whether (hash, nonce) beats (bestHash, bestNonce): a smaller hash wins, and on
// equal hashes the smaller nonce, so every search has exactly one answer.
func Better(hash, nonce, bestHash, bestNonce uint64) bool {
	return hash < bestHash || (hash == bestHash && nonce < bestNonce)
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
