package cmud

import (
	"strings"
	"sync"
	"testing"
)

// lwwReplica models one kvstore server: Puts are stamped with this replica's own (skewed) clock
// and its id, reads see only what has reached this replica, and sync merges by the larger
// stamp, exactly the rule that loses one of two concurrent writes to the same key.
type lwwReplica struct {
	mu    sync.Mutex
	id    int64
	clock int64 // advances by one per Put; replicas start far apart to model clock skew
	data  map[string]stamped
}

type stamped struct {
	time, id int64
	value    string
}

func (a stamped) newer(b stamped) bool { return a.time > b.time || (a.time == b.time && a.id > b.id) }

func (r *lwwReplica) Get(key string) (string, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.data[key]
	return v.value, ok, nil
}

func (r *lwwReplica) Put(key, value string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock++
	r.data[key] = stamped{r.clock, r.id, value}
	return nil
}

func (r *lwwReplica) List(prefix string) (map[string]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for k, v := range r.data {
		if strings.HasPrefix(k, prefix) {
			out[k] = v.value
		}
	}
	return out, nil
}

// syncFrom merges everything of other into r, last writer wins.
func (r *lwwReplica) syncFrom(other *lwwReplica) {
	other.mu.Lock()
	snap := make(map[string]stamped, len(other.data))
	for k, v := range other.data {
		snap[k] = v
	}
	other.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range snap {
		if cur, ok := r.data[k]; !ok || v.newer(cur) {
			r.data[k] = v
		}
	}
}

// Two players solving at once on two servers, and one player mining from two devices on two
// servers, lose nothing once the replicas have synced, even with the servers' clocks far apart.
func TestConcurrentPlayOnTwoServersLosesNothing(t *testing.T) {
	t.Parallel()
	east := &lwwReplica{id: 1, clock: 1_000_000, data: map[string]stamped{}}
	west := &lwwReplica{id: 2, clock: 0, data: map[string]stamped{}} // far behind east's clock

	alice := join(t, newGame(t, east, "alice-east"), "alice")
	west.syncFrom(east)
	bob := join(t, newGame(t, west, "bob-west"), "bob")
	alicePhone := join(t, newGame(t, west, "alice-west"), "alice")
	east.syncFrom(west)

	const rounds = 40
	var wg sync.WaitGroup
	wg.Go(func() {
		for range rounds {
			alice.Exec("solve")
			alice.Exec("mine 2")
		}
	})
	wg.Go(func() {
		for range rounds {
			bob.Exec("solve")
		}
	})
	wg.Go(func() {
		for range rounds {
			alicePhone.Exec("mine 3")
		}
	})
	wg.Wait()
	east.syncFrom(west)
	west.syncFrom(east)

	for name, r := range map[string]*lwwReplica{"east": east, "west": west} {
		// Each solve dealt 1 (power 1); 80 of them do not yet beat the 100-health problem.
		if d, _ := problemDamage(r, Undergraduate); d != 2*rounds {
			t.Errorf("%s: problem damage = %d, want %d (the sum of both players' solves)", name, d, 2*rounds)
		}
		if p := player(t, r, "alice"); p.Coins != rounds*2+rounds*3 {
			t.Errorf("%s: alice's coins = %d, want %d from both devices", name, p.Coins, rounds*5)
		}
	}
}
