package actor

import (
	"testing"
	"time"

	"ds440/actor/internal/wire"
)

func envs(batch []wire.Envelope) []int {
	var tos []int
	for _, e := range batch {
		tos = append(tos, e.To)
	}
	return tos
}

func TestOutboxTakeDue(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time {
		if ms < 0 {
			return time.Time{}
		}
		return t0.Add(time.Duration(ms) * time.Millisecond)
	}
	type msg struct{ to, dueMs, size int }
	cases := []struct {
		name      string
		queued    []msg
		nowMs     int
		maxCount  int
		maxBytes  int
		want      []int
		wantWait  time.Duration
		remaining int
	}{
		{"empty", nil, 0, 10, 1000, nil, 0, 0},
		{"no latency: all", []msg{{1, -1, 1}, {2, -1, 1}, {3, -1, 1}}, 0, 10, 1000, []int{1, 2, 3}, 0, 0},
		{"count limit", []msg{{1, -1, 1}, {2, -1, 1}, {3, -1, 1}}, 0, 2, 1000, []int{1, 2}, 0, 1},
		{"byte limit stops after reaching it", []msg{{1, -1, 600}, {2, -1, 600}, {3, -1, 1}}, 0, 10, 1000, []int{1, 2}, 0, 1},
		{"none due: wait for the head", []msg{{1, 200, 1}, {2, 201, 1}}, 50, 10, 1000, nil, 150 * time.Millisecond, 2},
		{"due prefix only", []msg{{1, 100, 1}, {2, 150, 1}, {3, 300, 1}}, 200, 10, 1000, []int{1, 2}, 0, 1},
		{"exactly due", []msg{{1, 200, 1}}, 200, 10, 1000, []int{1}, 0, 0},
		{"order kept when a later one is due first", []msg{{1, 300, 1}, {2, 100, 1}}, 200, 10, 1000, nil, 100 * time.Millisecond, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var o outbox
			for _, m := range c.queued {
				o.push(outMsg{env: wire.Envelope{To: m.to, Size: int32(m.size)}, due: at(m.dueMs)})
			}
			batch, wait := o.takeDue(at(c.nowMs), c.maxCount, c.maxBytes, nil)
			if got := envs(batch); len(got) != len(c.want) || (len(got) > 0 && !equalInts(got, c.want)) {
				t.Fatalf("batch %v, want %v", got, c.want)
			}
			if wait != c.wantWait {
				t.Fatalf("wait %v, want %v", wait, c.wantWait)
			}
			if o.len() != c.remaining {
				t.Fatalf("%d left, want %d", o.len(), c.remaining)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOutboxKeepsOrderThroughReuse(t *testing.T) {
	t.Parallel()
	var o outbox
	next, pushed := 0, 0
	var batch []wire.Envelope
	for round := range 300 {
		for range round%9 + 1 {
			o.push(outMsg{env: wire.Envelope{To: pushed}})
			pushed++
		}
		batch, _ = o.takeDue(time.Now(), round%4+1, 1<<20, batch[:0])
		for _, e := range batch {
			if e.To != next {
				t.Fatalf("took %d, want %d", e.To, next)
			}
			next++
		}
	}
	if n := o.dropAll(); n != pushed-next || o.len() != 0 {
		t.Fatalf("dropAll = %d, want %d", n, pushed-next)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	b := backoff{min: 50 * time.Millisecond, max: time.Second}
	if d := b.delay(0.5); d != 0 {
		t.Fatalf("delay without failures = %v", d)
	}
	b.fail()
	if d := b.delay(0.5); d != 0 {
		t.Fatalf("delay after one failure = %v, want an immediate redial", d)
	}
	for i, want := range []time.Duration{50, 100, 200, 400, 800, 1000, 1000} {
		b.fail()
		if got := b.delay(0.999999); got < want*time.Millisecond*99/100 || got > want*time.Millisecond {
			t.Fatalf("pause %d = %v, want about %v", i, got, want*time.Millisecond)
		}
		if got := b.delay(0); got != want*time.Millisecond/2 {
			t.Fatalf("pause %d without jitter = %v, want %v", i, got, want*time.Millisecond/2)
		}
	}
	for range 100 { // no overflow however long the outage
		b.fail()
	}
	if d := b.delay(0); d != 500*time.Millisecond {
		t.Fatalf("pause after many failures = %v", d)
	}
	b.reset()
	if d := b.delay(0); d != 0 {
		t.Fatalf("pause after reset = %v", d)
	}
}
