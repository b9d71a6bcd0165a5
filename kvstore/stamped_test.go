package kvstore

import (
	"testing"
	"time"
)

// TestStamped checks the stamped face: PutStamped returns the stamp the replicas keep, a later
// Put gets a larger stamp, and ListStamped on another server shows the winner with its stamp.
func TestStamped(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		c := newCluster(t)
		a, b := c.start(2), c.start(1)
		ca, cb := c.clients(a), c.clients(b)
		s1, err := ca[0].PutStamped("k", "one")
		if err != nil {
			t.Fatal(err)
		}
		c.clock.advance(time.Millisecond)
		s2, err := ca[1].PutStamped("k", "two")
		if err != nil {
			t.Fatal(err)
		}
		if s2.Compare(s1) <= 0 || s1.Uid != a.refs[0].Uid() || s2.Uid != a.refs[1].Uid() {
			t.Fatalf("stamps %+v then %+v", s1, s2)
		}
		mustPut(t, ca[0], "other", "x")
		c.settle()
		for _, cl := range append(ca, cb...) {
			got, err := cl.ListStamped("k")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got["k"] != (Entry{Value: "two", Stamp: s2}) {
				t.Fatalf("ListStamped(k) = %+v, want two at %+v", got, s2)
			}
		}
		if got, err := cb[0].ListStamped("none"); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("ListStamped(none) = %v, %v; want an empty map", got, err)
		}
	})
}
