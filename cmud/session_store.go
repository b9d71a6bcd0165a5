package cmud

import (
	"strings"
	"sync"
	"time"
)

// ownWritesTTL is how long a session overlays its own writes on what the store returns: longer
// than kvstore takes to spread a Put to every replica (500 ms locally, 2 s across servers).
const ownWritesTTL = 5 * time.Second

// ownWrites gives a session read-your-writes on an eventually consistent store. The store may
// route each call to a different replica, and a replica may not have the session's last Put
// yet: a player who mines and then buys must still see the coins. It remembers the session's
// writes for ownWritesTTL and lays them over reads; after that the store is the only truth, so
// the game still keeps no state of its own that outlives the replication delay.
type ownWrites struct {
	store Store
	now   func() time.Time

	mu     sync.Mutex
	recent map[string]ownWrite
}

type ownWrite struct {
	value string
	at    time.Time
}

func newOwnWrites(s Store, now func() time.Time) *ownWrites {
	return &ownWrites{store: s, now: now, recent: map[string]ownWrite{}}
}

func (o *ownWrites) Put(key, value string) error {
	if err := o.store.Put(key, value); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recent[key] = ownWrite{value, o.now()}
	return nil
}

func (o *ownWrites) Get(key string) (string, bool, error) {
	v, ok, err := o.store.Get(key)
	if err != nil {
		return v, ok, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expire()
	if w, mine := o.recent[key]; mine {
		return w.value, true, nil
	}
	return v, ok, nil
}

func (o *ownWrites) List(prefix string) (map[string]string, error) {
	m, err := o.store.List(prefix)
	if err != nil {
		return m, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expire()
	for k, w := range o.recent {
		if strings.HasPrefix(k, prefix) {
			m[k] = w.value
		}
	}
	return m, nil
}

// expire forgets writes old enough to be on every replica. Callers hold mu.
func (o *ownWrites) expire() {
	now := o.now()
	for k, w := range o.recent {
		if now.Sub(w.at) > ownWritesTTL {
			delete(o.recent, k)
		}
	}
}
