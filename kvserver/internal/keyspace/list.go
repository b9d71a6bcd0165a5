package keyspace

import "iter"

// chunkValues is how many values a chunk of a List holds. Values are packed into chunks, as in
// Redis's quicklist, so that a push costs no allocation of its own (only a chunk's occasional
// growth), a long list is a few hundred objects for the collector instead of one per value, and
// growing it never copies the whole list.
const chunkValues = 128

// List holds values in order. It is two stacks of chunks back to back: front holds the values
// pushed before the first (LPUSH) with the first value on top, back the others with the last
// value on top, so that pushing and popping at either end is O(1) and never moves the rest.
//
// Values are stored by copy. A value a List returns is a view of its chunk: valid until the
// next change of the List, which may reuse the chunk's bytes.
type List struct {
	front, back stack
}

// stack is a sequence of chunks pushed and popped at its top and popped at its bottom. Every
// chunk but the top one is full (chunkValues values, counting those popped from the bottom
// chunk), so the i-th value is found by division.
type stack struct {
	n      int     // values
	chunks []chunk // bottom first
	spare  *chunk  // the memory of the last full-size chunk popped empty from the top, for push
}

// chunk holds up to chunkValues values back to back in data; value k is data[ends[k-1]:ends[k]]
// (from 0 for k = 0). Values before head have been popped from the bottom of the stack.
type chunk struct {
	data []byte
	ends []int
	head int
}

func (c *chunk) value(k int) []byte {
	start := 0
	if k > 0 {
		start = c.ends[k-1]
	}
	end := c.ends[k]
	return c.data[start:end:end]
}

// at returns the i-th value from the bottom, 0 <= i < s.n.
func (s *stack) at(i int) []byte {
	i += s.chunks[0].head
	return s.chunks[i/chunkValues].value(i % chunkValues)
}

// push puts a copy of v on top.
func (s *stack) push(v []byte) {
	switch {
	case len(s.chunks) == 0:
		s.chunks = append(s.chunks, chunk{}) // grown as values come: most lists are short
	case len(s.chunks[len(s.chunks)-1].ends) == chunkValues:
		// The stack is long: the next chunk gets the room a full one takes, in two allocations
		// instead of the dozen or so of growing it value by value, or the spare's if a push and
		// a pop at a chunk's edge have left one.
		var next chunk
		if s.spare != nil && s.spare.ends != nil {
			next, *s.spare = *s.spare, chunk{}
		} else {
			full := &s.chunks[len(s.chunks)-1]
			next = chunk{data: make([]byte, 0, len(full.data)), ends: make([]int, 0, chunkValues)}
		}
		s.chunks = append(s.chunks, next)
	}
	c := &s.chunks[len(s.chunks)-1]
	c.data = append(c.data, v...)
	c.ends = append(c.ends, len(c.data))
	s.n++
}

// popTop removes the top value of a non-empty stack.
func (s *stack) popTop() {
	c := &s.chunks[len(s.chunks)-1]
	c.ends = c.ends[:len(c.ends)-1]
	if len(c.ends) == c.head {
		if cap(c.ends) == chunkValues && len(s.chunks) > 1 {
			if s.spare == nil { // kept once made: a stack that needs it once tends to again
				s.spare = new(chunk)
			}
			*s.spare = chunk{data: c.data[:0], ends: c.ends[:0]}
		}
		s.chunks[len(s.chunks)-1] = chunk{}
		s.chunks = s.chunks[:len(s.chunks)-1]
	} else {
		c.data = c.data[:c.ends[len(c.ends)-1]]
	}
	s.n--
}

// popBottom removes the bottom value of a non-empty stack.
func (s *stack) popBottom() {
	c := &s.chunks[0]
	c.head++
	if c.head == len(c.ends) {
		s.chunks[0] = chunk{}
		s.chunks = s.chunks[1:]
	}
	s.n--
}

// reset empties s, keeping its first chunk's memory for reuse.
func (s *stack) reset() {
	if len(s.chunks) == 0 {
		return
	}
	c := s.chunks[0]
	clear(s.chunks)
	s.chunks = s.chunks[:1]
	s.chunks[0] = chunk{data: c.data[:0], ends: c.ends[:0]}
	s.n = 0
	if s.spare != nil {
		*s.spare = chunk{}
	}
}

// Run is a stretch of consecutive values of a List as the List stores them, for callers that
// encode many values at once (LRANGE): value k of the run is Data[Ends[k-1]:Ends[k]], value 0
// starting at Start. A Reversed run holds its values last first (they were pushed at the
// front). A Run is a view of the List, valid until its next change.
type Run struct {
	Data     []byte
	Start    int
	Ends     []int
	Reversed bool
}

// Len returns the number of values in r.
func (r Run) Len() int { return len(r.Ends) }

// Bytes returns the number of bytes r's values hold together.
func (r Run) Bytes() int { return r.Ends[len(r.Ends)-1] - r.Start }

// runs yields the values from the i-th to the j-th from the bottom (j excluded), i < j, as
// runs: upwards if up, chunk by chunk from the i-th value's; else from the (j-1)-th value's
// chunk down, each run Reversed.
func (s *stack) runs(i, j int, up bool, yield func(Run) bool) bool {
	h := s.chunks[0].head
	lo, hi := i+h, j+h // positions counting popped values, so that chunk = position / chunkValues
	if up {
		for ci := lo / chunkValues; lo < hi; ci++ {
			c := &s.chunks[ci]
			k, end := lo%chunkValues, min(len(c.ends), hi-ci*chunkValues)
			if !yield(c.run(k, end, false)) {
				return false
			}
			lo += end - k
		}
		return true
	}
	for ci := (hi - 1) / chunkValues; hi > lo; ci-- {
		c := &s.chunks[ci]
		if !yield(c.run(max(lo-ci*chunkValues, 0), hi-ci*chunkValues, true)) {
			return false
		}
		hi = ci * chunkValues
	}
	return true
}

// run returns values k to end-1 of c, k < end.
func (c *chunk) run(k, end int, reversed bool) Run {
	start := 0
	if k > 0 {
		start = c.ends[k-1]
	}
	return Run{Data: c.data, Start: start, Ends: c.ends[k:end:end], Reversed: reversed}
}

// Len returns the number of values.
func (l *List) Len() int { return l.front.n + l.back.n }

// At returns the i-th value, 0 <= i < l.Len().
func (l *List) At(i int) []byte {
	if i < l.front.n {
		return l.front.at(l.front.n - 1 - i)
	}
	return l.back.at(i - l.front.n)
}

// Values yields the lo-th to the (hi-1)-th values, 0 <= lo <= hi <= l.Len(), in order.
func (l *List) Values(lo, hi int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for r := range l.Runs(lo, hi) {
			if !r.Reversed {
				start := r.Start
				for _, e := range r.Ends {
					if !yield(r.Data[start:e:e]) {
						return
					}
					start = e
				}
				continue
			}
			for k := len(r.Ends) - 1; k >= 0; k-- {
				start := r.Start
				if k > 0 {
					start = r.Ends[k-1]
				}
				if !yield(r.Data[start:r.Ends[k]:r.Ends[k]]) {
					return
				}
			}
		}
	}
}

// Runs yields the lo-th to the (hi-1)-th values, 0 <= lo <= hi <= l.Len(), as runs in list
// order: whoever encodes many values (LRANGE) loops over each run's values itself instead of
// paying a call per value.
func (l *List) Runs(lo, hi int) iter.Seq[Run] {
	return func(yield func(Run) bool) {
		f := l.front.n
		if lo < min(hi, f) && !l.front.runs(f-min(hi, f), f-lo, false, yield) {
			return
		}
		if hi > max(lo, f) {
			l.back.runs(max(lo-f, 0), hi-f, true, yield)
		}
	}
}

// PushFront inserts a copy of v before the first value.
func (l *List) PushFront(v []byte) { l.front.push(v) }

// PushBack appends a copy of v after the last value.
func (l *List) PushBack(v []byte) { l.back.push(v) }

// PopFront removes the first value of a non-empty list.
func (l *List) PopFront() {
	if l.front.n > 0 {
		l.front.popTop()
	} else {
		l.back.popBottom()
	}
}

// PopBack removes the last value of a non-empty list.
func (l *List) PopBack() {
	if l.back.n > 0 {
		l.back.popTop()
	} else {
		l.front.popBottom()
	}
}

// SetOne makes v (copied) the list's only value, reusing the list's memory when it can: a
// string overwritten by SET allocates nothing once its chunk is big enough.
func (l *List) SetOne(v []byte) {
	l.front = stack{}
	l.back.reset()
	l.back.push(v)
}

// AppendToLast appends suffix to the last value of a non-empty list in place.
func (l *List) AppendToLast(suffix []byte) {
	s := &l.back
	if s.n == 0 { // the last value is the bottom of front: move it to back first
		v := Clone(l.front.at(0))
		l.front.popBottom()
		s.push(v)
	}
	c := &s.chunks[len(s.chunks)-1]
	c.data = append(c.data, suffix...)
	c.ends[len(c.ends)-1] = len(c.data)
}

// Replace makes every value equal to old new (copied), and reports whether any was.
func (l *List) Replace(old, new []byte) bool {
	a := l.front.replace(old, new)
	b := l.back.replace(old, new)
	return a || b
}

// replace rebuilds each chunk of s that holds a value equal to old, with new in its place.
func (s *stack) replace(old, new []byte) bool {
	found := false
	for ci := range s.chunks {
		c := &s.chunks[ci]
		hit := false
		for k := c.head; k < len(c.ends) && !hit; k++ {
			hit = string(c.value(k)) == string(old)
		}
		if !hit {
			continue
		}
		found = true
		data := make([]byte, 0, len(c.data)+len(c.ends)*max(len(new)-len(old), 0))
		ends := make([]int, len(c.ends), cap(c.ends))
		for k := range c.ends {
			if k >= c.head {
				v := c.value(k)
				if string(v) == string(old) {
					v = new
				}
				data = append(data, v...)
			}
			ends[k] = len(data)
		}
		c.data, c.ends = data, ends
	}
	return found
}
