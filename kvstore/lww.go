package kvstore

import (
	"cmp"
	"hash/fnv"
	"strconv"
	"strings"
)

// Stamp orders the versions of a key: the wall-clock millisecond at which a query actor took
// the Put, then the Uid of that actor, so every replica picks the same winner.
type Stamp struct {
	Time int64  // Unix milliseconds
	Uid  string // ActorRef.Uid of the actor that took the Put
}

// Compare returns -1, 0 or +1 as a is older than, the same as, or newer than b.
func (a Stamp) Compare(b Stamp) int {
	if c := cmp.Compare(a.Time, b.Time); c != 0 {
		return c
	}
	return strings.Compare(a.Uid, b.Uid)
}

// Entry is one version of a key's value.
type Entry struct {
	Value string
	Stamp Stamp
}

// merge returns the winner of two versions of one key: the newer stamp, and on equal stamps
// (which only one Put can produce, so only a corrupted peer could send two different values)
// the larger value, so that merge is commutative, associative and idempotent whatever arrives.
func merge(a, b Entry) Entry {
	switch c := a.Stamp.Compare(b.Stamp); {
	case c > 0:
		return a
	case c < 0:
		return b
	case a.Value >= b.Value:
		return a
	default:
		return b
	}
}

// delta is a set of versions to send to, or received from, another replica.
type delta map[string]Entry

// Add merges e into d under key.
func (d delta) Add(key string, e Entry) {
	if cur, ok := d[key]; ok {
		e = merge(cur, e)
	}
	d[key] = e
}

// replica is one query actor's full copy of the store. It is plain data, owned by one actor.
type replica struct {
	entries map[string]Entry
	// buckets[b] is the XOR of entryHash over the keys in bucket b (keyBucket), and sum the
	// XOR of all of them: an order-independent digest of the replica, kept up to date in
	// O(1) per change, so two replicas compare in a few bytes and, when they differ, find
	// the buckets that do.
	buckets [digestBuckets]uint64
	sum     uint64
}

// digestBuckets is how many parts a replica's digest is split into: replicas that differ
// exchange the versions in the buckets that differ, about 1/digestBuckets of the store each.
const digestBuckets = 64

// keyBucket is the digest bucket of key.
func keyBucket(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % digestBuckets)
}

// entryHash hashes one version of a key, for the digest.
func entryHash(key string, e Entry) uint64 {
	h := fnv.New64a()
	h.Write([]byte(strconv.Itoa(len(key))))
	h.Write([]byte{0})
	h.Write([]byte(key))
	h.Write([]byte(strconv.FormatInt(e.Stamp.Time, 10)))
	h.Write([]byte{0})
	h.Write([]byte(e.Stamp.Uid))
	h.Write([]byte{0})
	h.Write([]byte(e.Value))
	x := h.Sum64()
	// A final mix, so that XOR-ing many of them stays well spread.
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}

// set stores e under key and updates the digest.
func (r *replica) set(key string, e Entry) {
	b := keyBucket(key)
	var x uint64
	if cur, ok := r.entries[key]; ok {
		x = entryHash(key, cur)
	}
	x ^= entryHash(key, e)
	r.buckets[b] ^= x
	r.sum ^= x
	r.entries[key] = e
}

// inBuckets returns the versions held in the given digest buckets.
func (r *replica) inBuckets(want []int) delta {
	set := map[int]bool{}
	for _, b := range want {
		set[b] = true
	}
	d := delta{}
	for k, e := range r.entries {
		if set[keyBucket(k)] {
			d[k] = e
		}
	}
	return d
}

// newReplica returns an empty replica.
func newReplica() *replica { return &replica{entries: map[string]Entry{}} }

// Get returns key's current value.
func (r *replica) Get(key string) (string, bool) {
	e, ok := r.entries[key]
	return e.Value, ok
}

// List returns every key with the prefix and its value; never nil.
func (r *replica) List(prefix string) map[string]string {
	out := map[string]string{}
	for k, e := range r.entries {
		if strings.HasPrefix(k, prefix) {
			out[k] = e.Value
		}
	}
	return out
}

// Put takes a client's write at wall-clock time now (ms) on the actor uid and returns the
// stamped entry. The stamp is at least one millisecond newer than the version this replica
// holds, so a Put always wins over what its own replica has seen (a re-Put of a value that lost
// wins this time), even if this server's clock is behind the writer of that version.
func (r *replica) Put(key, value string, now int64, uid string) Entry {
	t := now
	if cur, ok := r.entries[key]; ok && cur.Stamp.Time >= t {
		t = cur.Stamp.Time + 1
	}
	e := Entry{Value: value, Stamp: Stamp{Time: t, Uid: uid}}
	r.set(key, e)
	return e
}

// Apply merges a version received from another replica and reports whether it changed this
// replica (and so is news worth passing on).
func (r *replica) Apply(key string, e Entry) bool {
	cur, ok := r.entries[key]
	if ok && merge(cur, e) == cur {
		return false
	}
	r.set(key, e)
	return true
}

// Snapshot returns every version the replica holds, for a server that joins.
func (r *replica) Snapshot() delta {
	d := make(delta, len(r.entries))
	for k, e := range r.entries {
		d[k] = e
	}
	return d
}

// Len is the number of keys.
func (r *replica) Len() int { return len(r.entries) }
