package kvserver

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// commitStore is a memory store that counts its Puts and its Commits, and fails Commit on
// demand. The counters are atomic because the test reads them while the server's loop runs.
type commitStore struct {
	KVStore
	applied   atomic.Int64 // Puts applied
	committed atomic.Int64 // Puts covered by a successful Commit
	commits   atomic.Int64
	fail      atomic.Bool
}

func (s *commitStore) Put(key string, value []byte) {
	s.KVStore.Put(key, value)
	s.applied.Add(1)
}

func (s *commitStore) Commit() error {
	s.commits.Add(1)
	if s.fail.Load() {
		return errors.New("disk gone")
	}
	s.committed.Store(s.applied.Load())
	return nil
}

// No reply leaves before the mutations it follows are committed, and pipelined requests share
// Commits.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		store := &commitStore{KVStore: NewMemoryStore()}
		s := startServer(t, store)
		c := dial(t, s)
		for i := range 50 {
			if got := c.do("RPUSH", "k", strconv.Itoa(i)); got != ":"+strconv.Itoa(i+1) {
				t.Fatalf("RPUSH = %s", got)
			}
			if got := store.committed.Load(); got < int64(i+1) {
				t.Fatalf("reply to Put %d arrived with only %d Puts committed", i+1, got)
			}
		}

		const pipelined = 1000
		before := store.commits.Load()
		c.write(strings.Repeat(frame("RPUSH", "p", "v"), pipelined))
		for i := range pipelined {
			if got := c.reply(); got != ":"+strconv.Itoa(i+1) {
				t.Fatalf("RPUSH = %s", got)
			}
		}
		commits := store.commits.Load() - before
		t.Logf("%d pipelined Puts, %d Commits", pipelined, commits)
		if commits > pipelined/2 {
			t.Errorf("%d Commits for %d pipelined Puts: no grouping", commits, pipelined)
		}
	})
}

// When Commit fails, the clients owed replies of that round are dropped, not answered.
func TestCommitFailure(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		store := &commitStore{KVStore: NewMemoryStore()}
		s := startServer(t, store)
		c := dial(t, s)
		if got := c.do("RPUSH", "k", "durable"); got != ":1" {
			t.Fatalf("RPUSH = %s", got)
		}
		store.fail.Store(true)
		c.write(frame("RPUSH", "k", "lost"))
		c.expectEOF()
		waitCounts(t, s, 0, 1)
	})
}

// A text client's Put has no reply, so when the Commit of its round fails the server has no
// reply to withhold: it must drop the client, or the client would carry on unaware that its
// Puts were rolled back.
func TestCommitFailureText(t *testing.T) {
	t.Parallel()
	onLoops(t, func(t *testing.T) {
		t.Parallel()
		store := &commitStore{KVStore: NewMemoryStore()}
		s := startServer(t, store)
		c := dial(t, s)
		c.send("Put:k:durable")
		c.sync()
		store.fail.Store(true)
		c.send("Put:k:lost")
		c.expectEOF()
		waitCounts(t, s, 0, 1)
	})
}
