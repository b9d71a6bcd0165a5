package bitcoin

import (
	"testing"
	"time"
)

// The workload used for policy comparisons: 200 jobs, one every 250 ms, on four 10 M/s miners;
// small jobs are ~5 M nonces (half a second of one miner), every tenth is 80 M (2 s of the whole
// cluster). That is 2.5e9 nonces in 50 s on a 40 M/s cluster: about 85% busy, not saturated.
var (
	policySpeeds   = []float64{10e6, 10e6, 10e6, 10e6}
	policyWorkload = MixedWorkload(200, 250*time.Millisecond, 5_000_000, 80_000_000, 42)
)

func TestSimulateFairBeatsFIFOOnMixedLoad(t *testing.T) {
	t.Parallel()
	fair := Simulate(SchedulerConfig{Policy: PolicyFair}, policySpeeds, policyWorkload)
	fifo := Simulate(SchedulerConfig{Policy: PolicyFIFO}, policySpeeds, policyWorkload)
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
	r := Simulate(SchedulerConfig{}, []float64{1e6}, jobs)
	if r.Mean <= 0 || r.Max < r.P99 || r.P99 < r.P50 {
		t.Fatalf("implausible summary %+v", r)
	}
}

// BenchmarkPolicyFairVsFIFO simulates the same mixed workload under both policies and reports
// mean and p99 response times and the FIFO/fair ratios (higher is better for the fair policy).
func BenchmarkPolicyFairVsFIFO(b *testing.B) {
	var fair, fifo SimResult
	for b.Loop() {
		fair = Simulate(SchedulerConfig{Policy: PolicyFair}, policySpeeds, policyWorkload)
		fifo = Simulate(SchedulerConfig{Policy: PolicyFIFO}, policySpeeds, policyWorkload)
	}
	b.ReportMetric(fair.Mean.Seconds(), "fair-mean-s")
	b.ReportMetric(fair.P99.Seconds(), "fair-p99-s")
	b.ReportMetric(fifo.Mean.Seconds(), "fifo-mean-s")
	b.ReportMetric(fifo.P99.Seconds(), "fifo-p99-s")
	b.ReportMetric(fifo.Mean.Seconds()/fair.Mean.Seconds(), "mean-x-fifo")
	b.ReportMetric(fifo.P99.Seconds()/fair.P99.Seconds(), "p99-x-fifo")
}
