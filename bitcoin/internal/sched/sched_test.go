package sched

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// smallChunks makes every chunk 10 nonces so tests can reason about exact ranges.
var smallChunks = Config{InitialChunk: 10, MinChunk: 10, MaxChunk: 10}

// mine answers an assignment the way a correct miner does.
func mine(a Assignment) (hash, nonce uint64) { return bruteForce(a.Data, a.Lower, a.Upper) }

// bruteForce is the specification of a job's answer, by the definition of bitcoin.Hash (this
// package cannot import bitcoin, which imports it).
func bruteForce(msg string, lower, upper uint64) (hash, nonce uint64) {
	hash, nonce = math.MaxUint64, math.MaxUint64
	for n := lower; ; n++ {
		sum := sha256.Sum256([]byte(msg + " " + strconv.FormatUint(n, 10)))
		if h := binary.BigEndian.Uint64(sum[:8]); Better(h, n, hash, nonce) {
			hash, nonce = h, n
		}
		if n == upper {
			return hash, nonce
		}
	}
}

// drive runs the scheduler with miners that answer in assignment order, and returns the answers.
func drive(t *testing.T, s *Scheduler, pending []Assignment, now time.Time) []Answer {
	t.Helper()
	var answers []Answer
	for steps := 0; len(pending) > 0; steps++ {
		if steps > 1_000_000 {
			t.Fatal("scheduler did not converge")
		}
		a := pending[0]
		pending = pending[1:]
		h, n := mine(a)
		now = now.Add(time.Millisecond)
		acts, ok := s.MinerResult(a.Miner, h, n, now)
		if !ok {
			t.Fatalf("result for %+v rejected", a)
		}
		pending = append(pending, acts.Assign...)
		answers = append(answers, acts.Answers...)
	}
	return answers
}

func TestSchedulerSplitsAndMergesToMinimum(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		miners       int
		data         string
		lower, upper uint64
	}{
		{"one nonce", 1, "a", 7, 7},
		{"one chunk exactly", 1, "b", 0, 9},
		{"uneven tail", 3, "c", 0, 104},
		{"many miners few nonces", 8, "d", 0, 25},
		{"offset range", 2, "e", 1000, 1333},
		{"top of uint64", 2, "f", math.MaxUint64 - 40, math.MaxUint64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(smallChunks)
			var pending []Assignment
			for m := 0; m < tc.miners; m++ {
				acts, _ := s.AddMiner(100+m, t0)
				pending = append(pending, acts.Assign...)
			}
			acts, ok := s.AddJob(1, tc.data, tc.lower, tc.upper, t0)
			if !ok {
				t.Fatal("job rejected")
			}
			pending = append(pending, acts.Assign...)
			covered := map[uint64]int{}
			for _, a := range pending {
				for n := a.Lower; ; n++ {
					covered[n]++
					if n == a.Upper {
						break
					}
				}
			}
			answers := drive(t, s, pending, t0)
			if len(answers) != 1 {
				t.Fatalf("answers = %v, want one", answers)
			}
			h, n := bruteForce(tc.data, tc.lower, tc.upper)
			if got := answers[0]; got.Client != 1 || got.Hash != h || got.Nonce != n {
				t.Fatalf("answer %+v, want client 1 hash %d nonce %d", got, h, n)
			}
			if s.Jobs() != 0 {
				t.Fatalf("%d jobs left", s.Jobs())
			}
			if total, busy := s.Miners(); total != tc.miners || busy != 0 {
				t.Fatalf("miners total=%d busy=%d", total, busy)
			}
		})
	}
}

func TestSchedulerTiesGoToSmallerNonce(t *testing.T) {
	t.Parallel()
	s := New(smallChunks)
	s.AddMiner(10, t0)
	s.AddMiner(11, t0)
	acts, _ := s.AddJob(1, "tie", 0, 19, t0)
	if len(acts.Assign) != 2 {
		t.Fatalf("assignments %v", acts.Assign)
	}
	// Both chunks report the same hash: the later chunk answers first with the larger nonce.
	second, first := acts.Assign[1], acts.Assign[0]
	s.MinerResult(second.Miner, 5, second.Lower, at(1))
	out, _ := s.MinerResult(first.Miner, 5, first.Lower+3, at(2))
	if len(out.Answers) != 1 || out.Answers[0].Nonce != first.Lower+3 || out.Answers[0].Hash != 5 {
		t.Fatalf("answer %v, want hash 5 at the smaller nonce %d", out.Answers, first.Lower+3)
	}
}

func TestSchedulerNoMinersThenLateJoin(t *testing.T) {
	t.Parallel()
	s := New(smallChunks)
	acts, ok := s.AddJob(1, "wait", 0, 29, t0)
	if !ok || len(acts.Assign) != 0 {
		t.Fatalf("with no miners: ok=%v assign=%v", ok, acts.Assign)
	}
	acts, _ = s.AddMiner(50, at(1000))
	if len(acts.Assign) != 1 || acts.Assign[0].Miner != 50 || acts.Assign[0].Lower != 0 {
		t.Fatalf("late miner got %v", acts.Assign)
	}
	answers := drive(t, s, acts.Assign, at(1000))
	h, n := bruteForce("wait", 0, 29)
	if len(answers) != 1 || answers[0].Hash != h || answers[0].Nonce != n {
		t.Fatalf("answers %v", answers)
	}
}

func TestSchedulerReassignsLostMinersChunk(t *testing.T) {
	t.Parallel()
	s := New(smallChunks)
	s.AddMiner(10, t0)
	s.AddMiner(11, t0)
	acts, _ := s.AddJob(1, "lost", 0, 29, t0)
	if len(acts.Assign) != 2 {
		t.Fatalf("assignments %v", acts.Assign)
	}
	lostChunk := acts.Assign[0]
	// Miner 10 dies holding [0,9]; nobody is idle, so the chunk waits at the front of the job.
	if re := s.MinerLost(10, at(5)); len(re.Assign) != 0 {
		t.Fatalf("reassigned with no idle miner: %v", re.Assign)
	}
	// Miner 11 finishes and must get the lost chunk back before the untouched tail.
	h, n := mine(acts.Assign[1])
	next, _ := s.MinerResult(11, h, n, at(10))
	if len(next.Assign) != 1 || next.Assign[0].Lower != lostChunk.Lower || next.Assign[0].Upper != lostChunk.Upper {
		t.Fatalf("after loss, next assignment %v, want the lost chunk %+v", next.Assign, lostChunk)
	}
	answers := drive(t, s, next.Assign, at(10))
	wh, wn := bruteForce("lost", 0, 29)
	if len(answers) != 1 || answers[0].Hash != wh || answers[0].Nonce != wn {
		t.Fatalf("answers %v", answers)
	}
	if _, ok := s.MinerResult(10, 1, 1, at(20)); ok {
		t.Fatal("a result from a lost miner was accepted")
	}
}

func TestSchedulerAbandonsLostClientsJob(t *testing.T) {
	t.Parallel()
	s := New(smallChunks)
	s.AddMiner(10, t0)
	s.AddMiner(11, t0)
	a1, _ := s.AddJob(1, "gone", 0, 99, t0)
	s.AddJob(2, "stays", 0, 19, t0)
	s.ClientLost(1)
	if s.HasJob(1) {
		t.Fatal("job of a lost client still queued")
	}
	// The orphaned chunks come back and are discarded; the freed miners move on to job 2.
	var pending []Assignment
	for _, a := range a1.Assign {
		h, n := mine(a)
		acts, ok := s.MinerResult(a.Miner, h, n, at(10))
		if !ok || len(acts.Answers) != 0 {
			t.Fatalf("orphan result: ok=%v answers=%v", ok, acts.Answers)
		}
		pending = append(pending, acts.Assign...)
	}
	for _, a := range pending {
		if a.Data != "stays" {
			t.Fatalf("assignment for abandoned job: %+v", a)
		}
	}
	answers := drive(t, s, pending, at(10))
	h, n := bruteForce("stays", 0, 19)
	if len(answers) != 1 || answers[0].Client != 2 || answers[0].Hash != h || answers[0].Nonce != n {
		t.Fatalf("answers %v", answers)
	}
}

func TestSchedulerRejectsBadEvents(t *testing.T) {
	t.Parallel()
	s := New(smallChunks)
	if _, ok := s.AddJob(1, "x", 5, 4, t0); ok {
		t.Error("empty range accepted")
	}
	s.AddMiner(10, t0)
	if _, ok := s.AddMiner(10, t0); ok {
		t.Error("second Join accepted")
	}
	if _, ok := s.AddJob(10, "x", 0, 1, t0); ok {
		t.Error("request from a miner accepted")
	}
	if _, ok := s.MinerResult(99, 1, 1, t0); ok {
		t.Error("result from a non-miner accepted")
	}
	if _, ok := s.MinerResult(10, 1, 1, t0); ok {
		t.Error("result from an idle miner accepted")
	}
	s.AddJob(2, "y", 0, 5, t0)
	if _, ok := s.AddJob(2, "z", 0, 5, t0); ok {
		t.Error("second job of one client accepted")
	}
	if _, ok := s.AddMiner(2, t0); ok {
		t.Error("Join from a client with a job accepted")
	}
	s.Lost(12345, t0) // unknown ids are harmless
}

func TestSchedulerResultOutsideChunkIsRedone(t *testing.T) {
	t.Parallel()
	s := New(smallChunks)
	s.AddMiner(10, t0)
	acts, _ := s.AddJob(1, "liar", 0, 9, t0)
	again, _ := s.MinerResult(10, 0, 500, at(1)) // a nonce it was never given
	if len(again.Answers) != 0 || len(again.Assign) != 1 || again.Assign[0] != acts.Assign[0] {
		t.Fatalf("bad result: answers %v, reassign %v", again.Answers, again.Assign)
	}
}

func TestSchedulerAdaptsChunkSizeToMinerSpeed(t *testing.T) {
	t.Parallel()
	cfg := Config{ChunkTarget: time.Second, InitialChunk: 1000, MinChunk: 100, MaxChunk: 1 << 40}
	s := New(cfg)
	s.AddMiner(1, t0)
	s.AddMiner(2, t0)
	acts, _ := s.AddJob(7, "speed", 0, math.MaxUint64, t0)
	size := func(a Assignment) uint64 { return a.Upper - a.Lower + 1 }
	for _, a := range acts.Assign {
		if size(a) != 1000 {
			t.Fatalf("first chunk %d nonces, want the initial 1000", size(a))
		}
	}
	// Miner 1 does 1000 nonces in 10 ms (100k/s); miner 2 takes 100 ms (10k/s).
	fast, _ := s.MinerResult(1, 1, acts.Assign[0].Lower, at(10))
	slow, _ := s.MinerResult(2, 1, acts.Assign[1].Lower, at(100))
	if got := size(fast.Assign[0]); got != 100_000 {
		t.Errorf("fast miner's next chunk %d, want 100000 (one second of work)", got)
	}
	if got := size(slow.Assign[0]); got != 10_000 {
		t.Errorf("slow miner's next chunk %d, want 10000", got)
	}
	// Later measurements are smoothed: 10k/s then 50k/s averages to 30k/s.
	again, _ := s.MinerResult(2, 1, slow.Assign[0].Lower, at(100+200))
	if got := size(again.Assign[0]); got != 30_000 {
		t.Errorf("slow miner's smoothed chunk %d, want 30000", got)
	}
	// Clamped at both ends.
	crawl := New(cfg)
	crawl.AddMiner(5, t0)
	start, _ := crawl.AddJob(8, "clamp", 0, math.MaxUint64, t0)
	low, _ := crawl.MinerResult(5, 1, start.Assign[0].Lower, at(100_000)) // 10 nonces/s
	if got := size(low.Assign[0]); got != 100 {
		t.Errorf("very slow miner's chunk %d, want MinChunk 100", got)
	}
	burst := New(Config{ChunkTarget: time.Second, InitialChunk: 1000, MinChunk: 100, MaxChunk: 5000})
	burst.AddMiner(7, t0)
	b, _ := burst.AddJob(9, "clamp", 0, math.MaxUint64, t0)
	big, _ := burst.MinerResult(7, 1, b.Assign[0].Lower, at(1)) // 1M nonces/s
	if got := size(big.Assign[0]); got != 5000 {
		t.Errorf("very fast miner's chunk %d, want MaxChunk 5000", got)
	}
}

func TestSchedulerSmallJobOvertakesHugeOne(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy    Policy
		wantQuick bool
	}{{PolicyFair, true}, {PolicyFIFO, false}} {
		s := New(Config{Policy: tc.policy, InitialChunk: 10, MinChunk: 10, MaxChunk: 10})
		s.AddMiner(101, t0)
		acts, _ := s.AddJob(1, "huge", 0, 100_000, t0)
		s.AddJob(2, "small", 0, 29, t0)
		pending := acts.Assign
		steps := 0
		for ; steps < 20; steps++ {
			a := pending[0]
			h, n := mine(a)
			out, _ := s.MinerResult(a.Miner, h, n, at(steps+1))
			pending = out.Assign
			if len(out.Answers) > 0 && out.Answers[0].Client == 2 {
				break
			}
		}
		if quick := steps < 20; quick != tc.wantQuick {
			t.Errorf("policy %d: small job answered within 20 chunks = %v, want %v", tc.policy, quick, tc.wantQuick)
		}
	}
}

func TestSchedulerHugeJobIsNotStarved(t *testing.T) {
	t.Parallel()
	s := New(smallChunks)
	s.AddMiner(101, t0)
	acts, _ := s.AddJob(1, "huge", 0, 1<<40, t0)
	pending := acts.Assign
	hugeChunks := 0
	for i := 0; i < 400; i++ {
		// A stream of small jobs keeps arriving; the huge one must still get its share.
		client := 1000 + i
		s.AddJob(client, "small", 0, 9, at(i))
		a := pending[0]
		if a.Data == "huge" {
			hugeChunks++
		}
		h, n := mine(a)
		out, _ := s.MinerResult(a.Miner, h, n, at(i))
		pending = out.Assign
	}
	if hugeChunks < 400/4-1 {
		t.Fatalf("huge job got %d of 400 chunks, want at least a quarter", hugeChunks)
	}
}

func TestSchedulerManyClientsRandomEvents(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		s := New(Config{InitialChunk: 7, MinChunk: 7, MaxChunk: 50})
		type want struct{ hash, nonce uint64 }
		expected := map[int]want{}
		abandoned := map[int]bool{}
		outstanding := map[int]Assignment{} // by miner
		got := map[int]Answer{}
		nextMiner := 100
		apply := func(acts Actions) {
			for _, a := range acts.Assign {
				if _, dup := outstanding[a.Miner]; dup {
					t.Fatalf("miner %d given two chunks", a.Miner)
				}
				outstanding[a.Miner] = a
			}
			for _, ans := range acts.Answers {
				if _, dup := got[ans.Client]; dup {
					t.Fatalf("client %d answered twice", ans.Client)
				}
				got[ans.Client] = ans
			}
		}
		for c := 0; c < 12; c++ {
			lo := uint64(rng.IntN(100))
			hi := lo + uint64(rng.IntN(300))
			data := string(rune('a' + c))
			h, n := bruteForce(data, lo, hi)
			expected[c] = want{h, n}
			acts, _ := s.AddJob(c, data, lo, hi, at(0))
			apply(acts)
		}
		for step := 0; len(got)+len(abandoned) < len(expected); step++ {
			if step > 100_000 {
				t.Fatal("no progress")
			}
			now := at(step)
			switch r := rng.IntN(10); {
			case r == 0 || len(outstanding) == 0 && r < 5:
				acts, _ := s.AddMiner(nextMiner, now)
				nextMiner++
				apply(acts)
			case r == 1 && len(outstanding) > 0:
				for id := range outstanding {
					delete(outstanding, id)
					apply(s.MinerLost(id, now))
					break
				}
			case r == 2:
				c := rng.IntN(len(expected))
				if _, done := got[c]; !done && !abandoned[c] && s.HasJob(c) {
					abandoned[c] = true
					s.ClientLost(c)
				}
			default:
				for id, a := range outstanding {
					delete(outstanding, id)
					h, n := mine(a)
					acts, ok := s.MinerResult(id, h, n, now)
					if !ok {
						t.Fatalf("result of miner %d rejected", id)
					}
					apply(acts)
					break
				}
			}
		}
		for c, w := range expected {
			ans, ok := got[c]
			if abandoned[c] {
				if ok {
					t.Fatalf("abandoned client %d answered", c)
				}
				continue
			}
			if !ok || ans.Hash != w.hash || ans.Nonce != w.nonce {
				t.Fatalf("round %d client %d: got %+v (answered %v), want %+v", round, c, ans, ok, w)
			}
		}
	}
}

// Hashed counts every result's chunk, including work for a job that was abandoned meanwhile.
func TestSchedulerCountsHashedWork(t *testing.T) {
	t.Parallel()
	s := New(Config{InitialChunk: 100, MinChunk: 100, MaxChunk: 100})
	now := time.Now()
	s.AddMiner(1, now)
	s.AddMiner(2, now)
	s.AddJob(10, "a", 0, 199, now)
	s.MinerResult(1, 5, 5, now.Add(time.Millisecond))
	s.ClientLost(10)
	s.MinerResult(2, 7, 150, now.Add(time.Millisecond))
	if got := s.Hashed(); got != 200 {
		t.Errorf("Hashed = %d, want 200", got)
	}
}

func TestBetterBreaksTiesBySmallerNonce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		h, n, bh, bn uint64
		want         bool
	}{
		{1, 9, 2, 0, true},
		{2, 0, 1, 9, false},
		{5, 3, 5, 4, true},
		{5, 4, 5, 3, false},
		{5, 4, 5, 4, false},
	} {
		if got := Better(tc.h, tc.n, tc.bh, tc.bn); got != tc.want {
			t.Errorf("Better(%d,%d,%d,%d) = %v, want %v", tc.h, tc.n, tc.bh, tc.bn, got, tc.want)
		}
	}
}
