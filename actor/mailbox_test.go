package actor

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"ds440/internal/testutil"
)

func TestMailboxFIFOUnderConcurrentPushers(t *testing.T) {
	testutil.CheckGoroutines(t)
	const pushers, each = 8, 2000
	m := NewMailbox()
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Go(func() {
			for i := range each {
				m.Push([2]int{p, i})
			}
		})
	}
	next := make([]int, pushers)
	for range pushers * each {
		v, ok := m.Pop()
		if !ok {
			t.Fatal("Pop on an open mailbox returned false")
		}
		pi := v.([2]int)
		if pi[1] != next[pi[0]] {
			t.Fatalf("pusher %d: got message %d, want %d", pi[0], pi[1], next[pi[0]])
		}
		next[pi[0]]++
	}
	wg.Wait()
	if n := m.Len(); n != 0 {
		t.Fatalf("Len = %d after popping everything", n)
	}
}

func TestMailbox10000PushPopPairsFast(t *testing.T) {
	t.Parallel()
	m := NewMailbox()
	start := time.Now()
	for i := range 10000 {
		m.Push(i)
		v, ok := m.Pop()
		if !ok || v.(int) != i {
			t.Fatalf("Pop = %v, %v; want %d, true", v, ok, i)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("10,000 push/pop pairs took %v", d)
	}
}

// Push never waits for a reader: in a synctest bubble, 100,000 pushes with nobody popping end
// before every goroutine of the bubble is blocked, however slow the machine.
func TestMailboxPushNeverBlocksAndGrows(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m := NewMailbox()
		var pushed atomic.Bool
		go func() {
			for i := range 100000 {
				m.Push(i)
			}
			pushed.Store(true)
		}()
		synctest.Wait()
		if !pushed.Load() {
			t.Fatal("100,000 pushes with no reader blocked")
		}
		for i := range 100000 {
			if v, _ := m.Pop(); v.(int) != i {
				t.Fatalf("Pop = %v, want %d", v, i)
			}
		}
	})
}

func TestMailboxInterleavedKeepsOrder(t *testing.T) {
	t.Parallel()
	// Pushes and pops interleaved so the consumed front is reused (compaction) many times.
	m := NewMailbox()
	next, pushed := 0, 0
	for round := range 200 {
		for range round%7 + 3 {
			m.Push(pushed)
			pushed++
		}
		for range round%5 + 1 {
			if m.Len() == 0 {
				break
			}
			v, _ := m.Pop()
			if v.(int) != next {
				t.Fatalf("Pop = %v, want %d", v, next)
			}
			next++
		}
	}
	for m.Len() > 0 {
		v, _ := m.Pop()
		if v.(int) != next {
			t.Fatalf("Pop = %v, want %d", v, next)
		}
		next++
	}
	if next != pushed {
		t.Fatalf("popped %d, pushed %d", next, pushed)
	}
}

func TestMailboxPopBlocksUntilPush(t *testing.T) {
	testutil.CheckGoroutines(t)
	m := NewMailbox()
	got := make(chan any, 1)
	go func() {
		v, _ := m.Pop()
		got <- v
	}()
	testutil.NoRecv(t, got, 50*time.Millisecond)
	m.Push("hello")
	if v := testutil.Recv(t, got, 5*time.Second); v != "hello" {
		t.Fatalf("Pop = %v, want hello", v)
	}
}

func TestMailboxCloseUnblocksPops(t *testing.T) {
	testutil.CheckGoroutines(t)
	m := NewMailbox()
	results := make(chan bool, 3)
	for range 3 {
		go func() {
			_, ok := m.Pop()
			results <- ok
		}()
	}
	testutil.NoRecv(t, results, 20*time.Millisecond)
	m.Close()
	for range 3 {
		if ok := testutil.Recv(t, results, 5*time.Second); ok {
			t.Fatal("Pop returned ok after Close")
		}
	}
}

func TestMailboxAfterClose(t *testing.T) {
	t.Parallel()
	m := NewMailbox()
	m.Push(1)
	m.Close()
	m.Close() // idempotent
	m.Push(2)
	if v, ok := m.Pop(); ok || v != nil {
		t.Fatalf("Pop after Close = %v, %v; want nil, false", v, ok)
	}
	if n := m.Len(); n != 0 {
		t.Fatalf("Len after Close = %d", n)
	}
}

func TestMailboxPopAllHandsOverBursts(t *testing.T) {
	t.Parallel()
	m := NewMailbox()
	for i := range 5 {
		m.Push(i)
	}
	batch, ok := m.popAll(nil)
	if !ok || len(batch) != 5 || batch[0] != 0 || batch[4] != 4 {
		t.Fatalf("popAll = %v, %v", batch, ok)
	}
	m.Push(5)
	if v, _ := m.Pop(); v != 5 {
		t.Fatalf("Pop after popAll = %v, want 5", v)
	}
	m.Close()
	if _, ok := m.popAll(batch[:0]); ok {
		t.Fatal("popAll after Close returned ok")
	}
}

func TestMailboxZeroValue(t *testing.T) {
	t.Parallel()
	var m Mailbox
	got := make(chan any, 2)
	go func() {
		for range 2 {
			v, _ := m.Pop()
			got <- v
		}
	}()
	m.Push(1)
	testutil.Recv(t, got, 5*time.Second)
	m.Close()
	if v := testutil.Recv(t, got, 5*time.Second); v != nil {
		t.Fatalf("Pop after Close = %v", v)
	}
}
