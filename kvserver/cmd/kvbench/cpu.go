package main

import (
	"fmt"
	"time"
)

// meter measures the CPU time kvbench and the driven server use during a measured window, so
// that a report shows each one's cost per request and whether the generator rather than the
// server was the bottleneck (a process near 100% of a CPU is).
type meter struct {
	pid        int // the server's process, 0 if not known
	gen0, srv0 time.Duration
	err        error
}

// cpuUse is the CPU time used in a result's windows.
type cpuUse struct {
	gen, srv       time.Duration
	hasGen, hasSrv bool
}

func (c *cpuUse) add(o cpuUse) {
	c.gen += o.gen
	c.srv += o.srv
	c.hasGen, c.hasSrv = o.hasGen, o.hasSrv
}

// start marks the start of the window.
func (m *meter) start() {
	m.gen0, _ = ownCPU()
	if m.pid > 0 {
		m.srv0, m.err = procCPU(m.pid)
	}
}

// stop marks the end of the window and puts what was used into res.
func (m *meter) stop(res *result) error {
	if g, ok := ownCPU(); ok {
		res.cpu.gen, res.cpu.hasGen = g-m.gen0, true
	}
	if m.pid <= 0 {
		return nil
	}
	s, err := procCPU(m.pid)
	if m.err != nil {
		err = m.err
	}
	if err != nil {
		return fmt.Errorf("reading the server's CPU time: %w", err)
	}
	res.cpu.srv, res.cpu.hasSrv = s-m.srv0, true
	return nil
}
