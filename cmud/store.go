package cmud

import (
	"maps"
	"strings"
	"sync"
)

// Store is the game's whole memory: the three operations of a kvstore.Client, so the game runs
// on a kvstore cluster as it is, and on a MemoryStore in tests.
type Store interface {
	Get(key string) (value string, ok bool, err error)
	Put(key, value string) error
	List(prefix string) (map[string]string, error)
}

// MemoryStore is a Store in memory, safe for concurrent use: for tests and single-process play.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[string]string{}} }

// Get returns the value of key.
func (s *MemoryStore) Get(key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

// Put sets key to value.
func (s *MemoryStore) Put(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

// List returns every key starting with prefix, with its value; never nil.
func (s *MemoryStore) List(prefix string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.m {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, nil
}

// Snapshot returns a copy of everything in the store.
func (s *MemoryStore) Snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m)
}
