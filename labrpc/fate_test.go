package labrpc

import (
	"math/rand/v2"
	"testing"
)

func TestFateReliableIsUntouched(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		if ft := (faults{reliable: true}).decide(r); ft != (fate{}) {
			t.Fatalf("reliable network changed a call: %+v", ft)
		}
	}
}

func TestFateOdds(t *testing.T) {
	t.Parallel()
	const n = 100_000
	tests := []struct {
		name                                 string
		f                                    faults
		dropReq, dropReply, delayed, reorder float64 // expected fractions
	}{
		{"unreliable", faults{}, 0.1, 0.1, 1, 0},
		{"reordering", faults{reliable: true, longReordering: true}, 0, 0, 0, reorderChance},
		{"both", faults{longReordering: true}, 0.1, 0.1, 1, reorderChance},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			var dropReq, dropReply, delayed, reorder int
			for range n {
				ft := tc.f.decide(r)
				if ft.dropRequest {
					dropReq++
				}
				if ft.dropReply {
					dropReply++
				}
				if ft.requestDelay > 0 {
					delayed++
				}
				if ft.requestDelay < 0 || ft.requestDelay >= maxShortDelay {
					t.Fatalf("request delay %v out of range", ft.requestDelay)
				}
				if ft.replyDelay > 0 {
					reorder++
					if ft.replyDelay < minReorderDelay || ft.replyDelay > minReorderDelay+maxReorderExtra {
						t.Fatalf("reply delay %v out of range", ft.replyDelay)
					}
				}
			}
			near := func(what string, got int, want float64) {
				if frac := float64(got) / n; frac < want-0.01 || frac > want+0.01 {
					t.Errorf("%s: fraction %.3f, want %.3f", what, frac, want)
				}
			}
			near("dropped requests", dropReq, tc.dropReq)
			near("dropped replies", dropReply, tc.dropReply)
			near("delayed requests", delayed, tc.delayed)
			near("held-back replies", reorder, tc.reorder)
		})
	}
}

func TestUnreachableDelay(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	var longest [2]int64
	for range 10_000 {
		for i, f := range []faults{{}, {longDelays: true}} {
			d := f.unreachableDelay(r)
			limit := maxDeadDelay
			if f.longDelays {
				limit = maxLongDeadDelay
			}
			if d < 0 || d >= limit {
				t.Fatalf("%+v: delay %v out of [0, %v)", f, d, limit)
			}
			longest[i] = max(longest[i], int64(d))
		}
	}
	if longest[1] < int64(maxLongDeadDelay)*9/10 || longest[0] < int64(maxDeadDelay)*9/10 {
		t.Fatalf("delays never approach their limits: %v", longest)
	}
}
