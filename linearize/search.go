package linearize

import (
	"cmp"
	"context"
	"math"
	"math/bits"
	"slices"
	"sort"
)

// node is an event of the history in a doubly linked list ordered by time: a call (match
// points at its return) or a return (match is nil). The search lifts an operation's two events
// out of the list when it linearizes it and puts them back when it backtracks.
type node struct {
	value      any // input of a call, output of a return
	match      *node
	id         int
	prev, next *node
}

// buildList returns the head sentinel of the event list of ops. Calls sort before returns at
// equal times, so operations that touch in time count as concurrent. Unknown operations
// return at infinity.
func buildList(ops []Operation) *node {
	type event struct {
		at     int64
		ret    bool
		id     int
		value  any
		target *node
	}
	events := make([]event, 0, 2*len(ops))
	for i, op := range ops {
		ret, out := int64(op.Return), op.Output
		if op.Unknown {
			ret, out = math.MaxInt64, UnknownOutput{}
		}
		events = append(events, event{at: int64(op.Call), id: i, value: op.Input},
			event{at: ret, ret: true, id: i, value: out})
	}
	sort.SliceStable(events, func(a, b int) bool {
		if events[a].at != events[b].at {
			return events[a].at < events[b].at
		}
		return !events[a].ret && events[b].ret
	})
	returns := make([]*node, len(ops))
	head := &node{id: -1}
	// Walk backwards so that each call finds its return already built.
	var next *node
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		n := &node{value: e.value, id: e.id, next: next}
		if e.ret {
			returns[e.id] = n
		} else {
			n.match = returns[e.id]
		}
		if next != nil {
			next.prev = n
		}
		next = n
	}
	head.next = next
	if next != nil {
		next.prev = head
	}
	return head
}

// lift takes a call and its return out of the list.
func lift(call *node) {
	call.prev.next = call.next
	call.next.prev = call.prev // a call is always followed by at least its own return
	ret := call.match
	ret.prev.next = ret.next
	if ret.next != nil {
		ret.next.prev = ret.prev
	}
}

// unlift undoes lift; calls must be undone in the reverse order of lifting.
func unlift(call *node) {
	ret := call.match
	ret.prev.next = ret
	if ret.next != nil {
		ret.next.prev = ret
	}
	call.prev.next = call
	call.next.prev = call
}

// memoEntry is a visited (set of linearized operations, state) pair. Operations are numbered
// in call order, so every operation below the earliest pending call (low) is linearized: the
// set is low and the bits from low's word up to the highest linearized operation. Where few
// operations overlap, that is a word or two instead of n/64.
type memoEntry struct {
	low   int
	words []uint64
	state any
}

type frame struct {
	call  *node
	state any // the state before call was linearized
	high  int // the highest linearized operation before call was linearized
}

// ctxCheckEvery is how many search steps run between looks at the context.
const ctxCheckEvery = 1 << 12

// checkPartition is the Wing-Gong/Lowe search: repeatedly linearize the first pending call the
// model accepts, backtrack when a return is reached whose call is still pending, and never
// revisit a (set of linearized operations, state) pair: Lowe's memoization, as in Porcupine.
//
// Recording the frontier at every new depth would cost O(n) each time, so a failed search is
// run a second time (it is deterministic) to record the frontier only at the deepest point.
func checkPartition(ctx context.Context, m Model, ops []Operation) (Verdict, *Counterexample) {
	if len(ops) == 0 {
		return Linearizable, nil
	}
	ops = slices.Clone(ops)
	slices.SortStableFunc(ops, func(a, b Operation) int { return cmp.Compare(a.Call, b.Call) })
	v, deepest, _ := search(ctx, m, ops, -1)
	if v != NotLinearizable {
		return v, nil
	}
	v, _, ce := search(ctx, m, ops, deepest)
	if v != NotLinearizable || ce == nil {
		return Unknown, nil // the second pass ran out of time
	}
	return v, ce
}

// search runs the Wing-Gong/Lowe search over ops sorted by call time and returns the deepest
// linearized prefix at which it got stuck. If recordAt >= 0, it stops with the counterexample
// the first time it is stuck at that depth.
func search(ctx context.Context, m Model, ops []Operation, recordAt int) (Verdict, int, *Counterexample) {
	head := buildList(ops)
	linearized := newBitset(len(ops)) // changed in place; memo entries copy what they need
	memo := map[uint64][]memoEntry{}
	var stack []frame
	state := m.Init()
	best, high := -1, -1

	// seen reports whether the set {linearized, with low as its earliest pending call and high
	// its highest member} was visited with state, and records it if not.
	seen := func(low, high int, state any) bool {
		var words []uint64
		if high >= low {
			words = linearized[low/64 : high/64+1]
		}
		h := uint64(low) * 0x9e3779b97f4a7c15
		for _, w := range words {
			h = bits.RotateLeft64(h^w, 29) * 1099511628211
		}
		if m.Hash != nil {
			h ^= m.Hash(state) * 0xbf58476d1ce4e5b9
		}
		for _, old := range memo[h] {
			if old.low == low && slices.Equal(old.words, words) && m.equal(old.state, state) {
				return true
			}
		}
		memo[h] = append(memo[h], memoEntry{low, slices.Clone(words), state})
		return false
	}

	steps := 0
	e := head.next
	for head.next != nil {
		if steps++; steps%ctxCheckEvery == 0 && ctx.Err() != nil {
			return Unknown, best, nil
		}
		if e.match != nil { // a pending call: try to linearize it here
			ok, next := m.Step(state, e.value, e.match.value)
			if ok {
				// The earliest pending call after this one is linearized; the list starts with
				// the earliest pending call, as calls are in id order and returns follow calls.
				low := head.next.id
				if e == head.next {
					low = len(ops)
					for n := e.next; n != nil; n = n.next {
						if n != e.match {
							low = n.id
							break
						}
					}
				}
				linearized.set(e.id)
				if !seen(low, max(high, e.id), next) {
					stack = append(stack, frame{e, state, high})
					state, high = next, max(high, e.id)
					lift(e)
					e = head.next
					continue
				}
				linearized.clear(e.id)
			}
			e = e.next
			continue
		}
		// A return whose call is still pending: nothing tried so far can be extended.
		if len(stack) == recordAt {
			return NotLinearizable, best, counterexample(m, ops, head, e, stack, state)
		}
		best = max(best, len(stack))
		if len(stack) == 0 {
			break
		}
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		state, high = top.state, top.high
		linearized.clear(top.call.id)
		unlift(top.call)
		e = top.call.next
	}
	if head.next == nil {
		return Linearizable, best, nil
	}
	return NotLinearizable, best, nil
}

// counterexample records the current search frontier: the linearized prefix and every call
// pending before the return at which the search got stuck.
func counterexample(m Model, ops []Operation, head, stuckAt *node, stack []frame, state any) *Counterexample {
	ce := &Counterexample{Partition: ops, model: m}
	for i, f := range stack {
		ce.Linearized = append(ce.Linearized, f.call.id)
		if i+1 < len(stack) {
			ce.States = append(ce.States, stack[i+1].state)
		} else {
			ce.States = append(ce.States, state)
		}
	}
	for n := head.next; n != stuckAt; n = n.next {
		if n.match != nil {
			ce.Stuck = append(ce.Stuck, n.id)
		}
	}
	return ce
}
