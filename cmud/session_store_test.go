package cmud

import (
	"testing"
	"time"
)

// laggingStore drops every Put on the floor for reads until flush, like a replica that has not
// synced yet.
type laggingStore struct {
	*MemoryStore
	pending map[string]string
}

func (l *laggingStore) Put(k, v string) error { l.pending[k] = v; return nil }
func (l *laggingStore) flush() {
	for k, v := range l.pending {
		l.MemoryStore.Put(k, v)
	}
	clear(l.pending)
}

func TestOwnWritesAreReadBackBeforeReplication(t *testing.T) {
	t.Parallel()
	lag := &laggingStore{NewMemoryStore(), map[string]string{}}
	now := time.Unix(0, 0)
	o := newOwnWrites(lag, func() time.Time { return now })
	o.Put("ledger/a/s/1", "earn 5")
	o.Put("place/a", "bridge")
	if v, ok, _ := o.Get("place/a"); v != "bridge" || !ok {
		t.Errorf("Get own write = %q, %v", v, ok)
	}
	if m, _ := o.List("ledger/a/"); m["ledger/a/s/1"] != "earn 5" {
		t.Errorf("List lacks own write: %v", m)
	}
	// Later, the store is the truth again: another device's move wins.
	lag.flush()
	lag.MemoryStore.Put("place/a", "fence")
	now = now.Add(ownWritesTTL + time.Second)
	if v, _, _ := o.Get("place/a"); v != "fence" {
		t.Errorf("Get after TTL = %q, want the store's value", v)
	}
	if len(o.recent) != 0 {
		t.Errorf("%d own writes kept after TTL", len(o.recent))
	}
}

// A game on a store whose replicas lag still lets a player spend what they just mined.
func TestGameReadsItsOwnWrites(t *testing.T) {
	t.Parallel()
	lag := &laggingStore{NewMemoryStore(), map[string]string{}}
	s := join(t, newGame(t, lag, "a"), "eager")
	exec(t, s, "mine 3", "earn 3")
	exec(t, s, "buy cpu 2", "buy 2 cpu")
	exec(t, s, "stats", "coins 1, power 3")
}
