package kvstore

import (
	"errors"
	"fmt"
	"time"

	"ds440/actor"
)

const (
	// syncInterval is the least time between two syncs from one actor (to any peer) and
	// between two of its timer messages to itself, so no (actor, target) pair carries more
	// than 1000/150 < 7 messages a second.
	syncInterval = 150 * time.Millisecond
	// ackTimeout is how long a batch of Puts sent to another server may go unacknowledged
	// before it is sent again: well over a round trip at 250 ms one-way latency plus the
	// receiver's batching interval, so only a lost batch or ack is resent.
	ackTimeout = 2 * time.Second
	// failingResend is how soon a batch is resent to a server that has already let one time
	// out and acknowledged nothing since, so that once a partition heals the Puts it held
	// back arrive within it rather than within ackTimeout. It may be shorter than a round trip
	// at 250 ms one-way latency: the first acknowledgement that comes back, even of a batch
	// resent since, ends it. At most two messages a second to such a server.
	failingResend = 500 * time.Millisecond
	// recentWindow is how long an actor remembers its own Puts, to hand them to a server that
	// joins: longer than it takes a Put to reach every actor of its own server, so a Put that
	// the joining server's welcome snapshot missed is always still remembered.
	recentWindow = 5 * time.Second
	// DefaultDropAfter is how long another server may leave every batch of Puts sent to it
	// unacknowledged before an actor drops it from its cluster (Config.DropAfter).
	DefaultDropAfter = time.Minute
	// rejoinInterval is how often an actor says hello to a server it dropped, so that the two
	// find each other again once the network heals: one small message per dropped server.
	rejoinInterval = 5 * time.Second
	// keepaliveInterval is how often a server has its first actor send its replica's digest
	// to the first actor of every other server (anti-entropy, see digestPart), so that a Put
	// that reached some servers only (its writer died before the others acknowledged it)
	// still reaches every one, and one restarted empty on its address without descs learns
	// of the cluster (and asks for the state) even when no one writes. One small message a
	// second per pair of servers; it rides on the sync cadence, so the rate limit holds.
	// Config.KeepaliveInterval overrides it.
	keepaliveInterval = 500 * time.Millisecond
	// DefaultPutTimeout is how long a Put waits for Config.PeerAcks other servers to hold it
	// before it returns ErrNotReplicated (Config.PutTimeout): over two resends of a lost
	// batch at the contract's 250 ms one-way latency.
	DefaultPutTimeout = 5 * time.Second
)

// Problems the query actors report through Config.OnError, wrapped with the server's address.
var (
	// ErrUnreachable: a server named in Config.Remotes (or found through one) has not
	// answered the hello of a joining server within ackTimeout. The hello is repeated.
	ErrUnreachable = errors.New("kvstore: server unreachable")
	// ErrServerDropped: another server acknowledged no batch of Puts for Config.DropAfter
	// and was dropped from the cluster; it is greeted again every few seconds and gets every
	// Put it missed when it answers.
	ErrServerDropped = errors.New("kvstore: server dropped")
)

// ErrNotReplicated is returned by a Put on a server with Config.PeerAcks > 0 when fewer other
// servers than that acknowledged holding the Put within Config.PutTimeout. The outcome is
// unknown: the Put is taken on the server that answered and is passed on once a peer
// answers, but it dies with that server if the server dies first.
var ErrNotReplicated = errors.New("kvstore: Put not held by enough other servers in time")

// envelope is a message a node wants sent, after a delay if After > 0, or (To nil) a problem
// to report.
type envelope struct {
	To     *actor.ActorRef
	Msg    any
	After  time.Duration
	Report error
}

// droppedServer is a server an actor dropped: nothing is kept for it but its desc, to say
// hello again every rejoinInterval.
type droppedServer struct {
	desc      serverDesc
	lastHello int64
}

// stranger is a server that sent this actor a sync without being known here, and since when.
type stranger struct {
	desc  serverDesc
	since int64
}

type recentPut struct {
	at  int64
	key string
	e   Entry
}

// remoteLink is what an actor keeps for another server of the cluster.
type remoteLink struct {
	desc    serverDesc
	pending delta // Puts taken here that this server has not been sent yet
	// failingSince is when the oldest batch sent to the server and not acknowledged since
	// was sent, if one has timed out; 0 while the server acknowledges.
	failingSince int64
	// Anti-entropy steps to send with the next sync (see digestPart): this replica's digest,
	// its bucket digests, or the buckets that differ.
	sendSum, sendBuckets bool
	want                 []int
	// theirSum and mySum are the server's digest and this replica's when its last digest
	// came, both 0 if they agreed: two digests in a row that differ while neither side
	// changed in between show replicas that differ for good, not a Put still on its way.
	theirSum, mySum uint64
}

// hasNews reports whether the server has a sync waiting.
func (l *remoteLink) hasNews() bool {
	return len(l.pending) > 0 || l.sendSum || l.sendBuckets || l.want != nil
}

// putWaiter is a Put whose answer waits until peerAcks other servers acknowledged a batch
// that holds it (or a newer version of its key).
type putWaiter struct {
	reply   *actor.ActorRef
	key     string
	stamp   Stamp
	at      int64           // when it was taken, ms
	holders map[string]bool // servers that acknowledged holding it
}

// sentBatch is a batch of Puts sent to another server and not yet acknowledged.
type sentBatch struct {
	addr    string
	at      int64
	entries delta
}

// node is a query actor's logic as plain code: a message in, messages out. It holds the
// replica and decides what to sync with whom, and when; queryActor only carries out its
// envelopes.
//
// News is sent at once if this actor has sent no sync for syncInterval, so sparse writes
// spread with no delay; otherwise it waits until the interval has passed, so bursts are
// batched into one message per peer per interval. Messages to other servers can be lost (the
// actor system delivers at most once), so every batch of Puts sent to one is numbered, its
// receiver acknowledges it in its next sync, and a batch unacknowledged after ackTimeout goes
// out again; merging is idempotent, so a batch that arrives twice does no harm.
type node struct {
	self    serverDesc
	index   int
	selfRef *actor.ActorRef
	uid     string
	replica *replica
	now     func() int64 // wall clock, ms

	remotes      map[string]*remoteLink     // servers of the cluster other than ours, by address
	pendingLocal delta                      // news for the other actors of this server
	recent       []recentPut                // Puts taken here in the last recentWindow
	seq          int64                      // number of the last batch sent to another server
	unacked      map[int64]sentBatch        // batches sent to other servers, by number
	acks         map[actor.ActorRef][]int64 // batches received, to acknowledge to their senders
	joining      map[string]int64           // servers said hello to and not yet heard from: when
	reported     map[string]bool            // joining servers reported unreachable
	dropped      map[string]*droppedServer  // servers dropped after dropAfter without an ack
	strangers    map[string]stranger        // servers that sent a sync but are not known here
	dropAfter    int64                      // ms
	peerAcks     int                        // other servers that must hold a Put before it is answered
	putTimeout   int64                      // ms a Put waits for them before ErrNotReplicated
	waiters      []*putWaiter               // Puts waiting for peerAcks servers, oldest first
	lastSync     int64                      // when this actor last sent a sync to anyone, ms
	lastTick     int64                      // when its last timer message was due, ms
	timerArmed   bool                       // a tickMsg to self is on its way
	configured   bool                       // its configMsg has come
}

func newNode(self *actor.ActorRef, now func() int64) *node {
	return &node{
		selfRef: self, uid: self.Uid(), replica: newReplica(), now: now,
		remotes: map[string]*remoteLink{}, pendingLocal: delta{}, unacked: map[int64]sentBatch{},
		acks: map[actor.ActorRef][]int64{}, joining: map[string]int64{}, reported: map[string]bool{},
		dropped: map[string]*droppedServer{}, strangers: map[string]stranger{}, dropAfter: DefaultDropAfter.Milliseconds(),
		putTimeout: DefaultPutTimeout.Milliseconds(), lastSync: -1 << 62, lastTick: -1 << 62,
	}
}

// handle applies one message and returns what to send.
func (n *node) handle(msg any) []envelope {
	var out []envelope
	switch m := msg.(type) {
	case getMsg:
		v, ok := n.replica.Get(m.Key)
		return []envelope{{To: m.Reply, Msg: getResult{Value: v, Ok: ok}}}
	case listMsg:
		return []envelope{{To: m.Reply, Msg: listResult{Entries: n.replica.List(m.Prefix)}}}
	case idleMsg:
		return []envelope{{To: m.Reply, Msg: n.idle()}}
	case listStampedMsg:
		return []envelope{{To: m.Reply, Msg: listStampedResult{Entries: n.replica.stampedList(m.Prefix)}}}
	case putMsg:
		now := n.now()
		e := n.replica.Put(m.Key, m.Value, now, n.uid)
		n.pendingLocal.Add(m.Key, e)
		for _, l := range n.remotes {
			l.pending.Add(m.Key, e)
		}
		n.remember(now, m.Key, e)
		if n.peerAcks > 0 {
			n.waiters = append(n.waiters, &putWaiter{reply: m.Reply, key: m.Key, stamp: e.Stamp, at: now, holders: map[string]bool{}})
		} else {
			out = append(out, envelope{To: m.Reply, Msg: putResult{Stamp: e.Stamp}})
		}
	case localSync:
		for k, e := range m.Entries {
			n.replica.Apply(k, e)
		}
		return nil
	case remoteSync:
		n.applyForLocals(m.Entries)
		if m.Seq > 0 && m.From != nil {
			n.acks[*m.From] = append(n.acks[*m.From], m.Seq)
		}
		if l := n.remotes[m.Server.Addr]; l != nil && len(m.Acks) > 0 {
			// It has our batches again, if only ones already resent: it is not failing, and
			// what is in flight to it waits ackTimeout before going out again.
			l.failingSince = 0
		}
		for _, s := range m.Acks {
			if b, ok := n.unacked[s]; ok {
				if l := n.remotes[b.addr]; l != nil {
					l.failingSince = 0
				}
				delete(n.unacked, s)
				out = append(out, n.held(b)...)
			}
		}
		if m.Digest != nil {
			out = append(out, n.antiEntropy(m)...)
		} else {
			n.noteStranger(m.Server)
		}
	case configMsg:
		out = n.configure(m)
	case tickMsg:
		n.timerArmed = false
	case keepaliveMsg:
		for _, l := range n.remotes {
			l.sendSum = true
		}
	case helloMsg:
		out = n.hello(m)
	case welcomeMsg:
		if len(m.Members) == 0 {
			return nil
		}
		answered := m.Members[0] // the server that answered
		delete(n.joining, answered.Addr)
		_, rejoined := n.dropped[answered.Addr]
		delete(n.dropped, answered.Addr)
		n.applyForLocals(m.State)
		for i, d := range m.Members {
			if n.addRemote(d) {
				// A server this one did not know: introduce ourselves to it too (the one that
				// answered knows us already), and make it known to our other actors.
				if i > 0 {
					out = append(out, n.sayHello(d))
				}
				out = append(out, n.toLocals(joinedMsg{Server: d})...)
			}
		}
		if l := n.remotes[answered.Addr]; rejoined && l != nil {
			// Back after being dropped: it may have missed any Put since, so it gets them all.
			l.pending = n.replica.Snapshot()
		}
	case joinedMsg:
		if _, ok := n.dropped[m.Server.Addr]; ok {
			// Another actor of this server has heard from it again: it is back, and may have
			// missed any Put taken here while it was dropped.
			delete(n.dropped, m.Server.Addr)
			if n.addRemote(m.Server) {
				n.remotes[m.Server.Addr].pending = n.replica.Snapshot()
			}
			break
		}
		n.addRemote(m.Server)
	default:
		return nil
	}
	return append(out, n.flush()...)
}

// held records that the server b went to holds its versions, and answers the Puts that are
// now held by peerAcks other servers. A version of the key newer than a Put's stamp holds it
// too: by last-writer-wins the Put is lost only to that version, which is now safe.
func (n *node) held(b sentBatch) []envelope {
	if len(n.waiters) == 0 {
		return nil
	}
	return n.answer(func(w *putWaiter) any {
		if e, ok := b.entries[w.key]; ok && e.Stamp.Compare(w.stamp) >= 0 {
			w.holders[b.addr] = true
		}
		if len(w.holders) >= n.peerAcks {
			return putResult{Stamp: w.stamp}
		}
		return nil
	})
}

// expire answers ErrNotReplicated to the Puts that waited putTimeout for their peers.
func (n *node) expire(now int64) []envelope {
	return n.answer(func(w *putWaiter) any {
		if now-w.at >= n.putTimeout {
			return putNotReplicated{Stamp: w.stamp, Holders: len(w.holders)}
		}
		return nil
	})
}

// answer sends each waiting Put the answer f gives it and forgets it; a Put f answers nil
// keeps waiting.
func (n *node) answer(f func(w *putWaiter) any) []envelope {
	var out []envelope
	kept := n.waiters[:0]
	for _, w := range n.waiters {
		if msg := f(w); msg != nil {
			out = append(out, envelope{To: w.reply, Msg: msg})
			continue
		}
		kept = append(kept, w)
	}
	clear(n.waiters[len(kept):])
	n.waiters = kept
	return out
}

// antiEntropy takes a step of anti-entropy another server's first actor sent with its sync
// (see digestPart), whose Entries are already merged. A digest that differs from this
// replica's starts an exchange only if the one before it differed too and neither replica
// changed since: while Puts are on their way replicas differ for a moment, and comparing
// buckets then would cost bytes that grow with the store for nothing. A sync with a digest comes only from a
// server of the cluster that has been running for a while, never from one joining, so a
// sender not known here is greeted at once: it restarted without descs, or dropped this one.
func (n *node) antiEntropy(m remoteSync) []envelope {
	l := n.remotes[m.Server.Addr]
	if l == nil {
		return n.greetUnknown(m.Server)
	}
	d := m.Digest
	switch {
	case len(d.Want) > 0:
		// The sender sent its versions in the buckets that differ: send back what is newer here.
		for k, e := range n.replica.inBuckets(d.Want) {
			if got, ok := m.Entries[k]; !ok || merge(got, e) != got {
				l.pending.Add(k, e)
			}
		}
	case len(d.Buckets) == digestBuckets:
		var diff []int
		for b, sum := range d.Buckets {
			if sum != n.replica.buckets[b] {
				diff = append(diff, b)
			}
		}
		if len(diff) > 0 {
			for k, e := range n.replica.inBuckets(diff) {
				l.pending.Add(k, e)
			}
			l.want = diff
		}
	case d.Sum == n.replica.sum:
		l.theirSum, l.mySum = 0, 0
	case d.Sum == l.theirSum && n.replica.sum == l.mySum:
		l.sendBuckets = true
		l.theirSum, l.mySum = 0, 0
	default:
		l.theirSum, l.mySum = d.Sum, n.replica.sum
	}
	return nil
}

// applyForLocals merges versions that came from another server and passes the news on to
// this server's other actors (never back to other servers: the writer's server sends them).
func (n *node) applyForLocals(d delta) {
	for k, e := range d {
		if n.replica.Apply(k, e) {
			n.pendingLocal.Add(k, e)
		}
	}
}

// configure takes the actor's place in the cluster from its server; only the first configMsg
// counts, so no later message, from anywhere, can change who the actor is.
func (n *node) configure(m configMsg) []envelope {
	if n.configured || m.Index < 0 || m.Index >= len(m.Self.Counters) {
		return nil
	}
	n.configured = true
	n.self, n.index = m.Self, m.Index
	var out []envelope
	for _, d := range m.Remotes {
		if d.Addr == n.self.Addr || len(d.Counters) == 0 {
			continue
		}
		if _, ok := n.remotes[d.Addr]; !ok {
			n.remotes[d.Addr] = &remoteLink{desc: d, pending: delta{}} // nothing of ours to catch up on
		}
		if m.Join {
			out = append(out, n.sayHello(d))
		}
	}
	return out
}

// sayHello introduces this server to d, and remembers to say it again until d answers.
func (n *node) sayHello(d serverDesc) envelope {
	n.joining[d.Addr] = n.now()
	return envelope{To: d.ref(0), Msg: helloMsg{Server: n.self, Reply: n.selfRef}}
}

// addRemote records a server of the cluster and reports whether it was new. A server that
// joins gets this actor's recent Puts with the next sync, covering any its welcome snapshot
// missed.
func (n *node) addRemote(d serverDesc) bool {
	if _, ok := n.remotes[d.Addr]; ok || d.Addr == n.self.Addr || len(d.Counters) == 0 {
		return false
	}
	delete(n.strangers, d.Addr)
	l := &remoteLink{desc: d, pending: delta{}}
	for _, r := range n.recent {
		l.pending.Add(r.key, r.e)
	}
	n.remotes[d.Addr] = l
	return true
}

// hello welcomes a joining server with this replica's state and tells this server's other
// actors about it, so all of them send it their Puts from now on. A repeated hello (its
// welcome was lost) is answered again.
func (n *node) hello(m helloMsg) []envelope {
	members := []serverDesc{n.self}
	for _, l := range n.remotes {
		members = append(members, l.desc)
	}
	delete(n.dropped, m.Server.Addr) // it is back: its welcome carries every Put it missed
	if l := n.remotes[m.Server.Addr]; l != nil && len(m.Server.Counters) > 0 {
		l.desc = m.Server // a server restarted on the same address may have other actors
	}
	n.addRemote(m.Server)
	out := []envelope{{To: m.Reply, Msg: welcomeMsg{State: n.replica.Snapshot(), Members: members}}}
	return append(out, n.toLocals(joinedMsg{Server: m.Server})...)
}

// toLocals addresses msg to every other actor of this server.
func (n *node) toLocals(msg any) []envelope {
	var out []envelope
	for i := range n.self.Counters {
		if i != n.index {
			out = append(out, envelope{To: n.self.ref(i), Msg: msg})
		}
	}
	return out
}

// drop forgets the server at addr, which has acknowledged nothing for dropAfter: its pending
// Puts and unacknowledged batches go, so memory stays bounded however long it is away. Only
// its desc is kept, to say hello again every rejoinInterval.
func (n *node) drop(addr string, now int64) envelope {
	l := n.remotes[addr]
	delete(n.remotes, addr)
	delete(n.joining, addr)
	for s, b := range n.unacked {
		if b.addr == addr {
			delete(n.unacked, s)
		}
	}
	n.dropped[addr] = &droppedServer{desc: l.desc, lastHello: now}
	return envelope{Report: fmt.Errorf("%w: %s acknowledged nothing for %v", ErrServerDropped,
		addr, time.Duration(now-l.failingSince)*time.Millisecond)}
}

// noteStranger records the server of a sync if this actor does not know it. A server that has
// just said hello to this one's first actor is not known here yet for a moment (its syncs
// and its hello leave together); one still unknown after ackTimeout is greeted.
func (n *node) noteStranger(d serverDesc) {
	if !n.configured || d.Addr == "" || d.Addr == n.self.Addr || len(d.Counters) == 0 {
		return
	}
	if _, ok := n.remotes[d.Addr]; ok {
		return
	}
	if _, ok := n.strangers[d.Addr]; !ok {
		n.strangers[d.Addr] = stranger{desc: d, since: n.now()}
	}
}

// greetUnknown makes the server of a sync that this actor does not know part of the cluster
// again and says hello to it: a server that restarted without the descs of the cluster, or one
// that had been dropped. Its welcome brings this actor's replica every Put it missed; a dropped
// server gets every Put from here, which it may have missed too.
func (n *node) greetUnknown(d serverDesc) []envelope {
	if !n.configured || d.Addr == "" || d.Addr == n.self.Addr || len(d.Counters) == 0 {
		return nil
	}
	if _, ok := n.remotes[d.Addr]; ok {
		return nil
	}
	_, wasDropped := n.dropped[d.Addr]
	delete(n.dropped, d.Addr)
	n.addRemote(d)
	if wasDropped {
		n.remotes[d.Addr].pending = n.replica.Snapshot()
	}
	out := []envelope{n.sayHello(d)}
	return append(out, n.toLocals(joinedMsg{Server: d})...)
}

// remember records a Put taken here and forgets those older than recentWindow.
func (n *node) remember(now int64, key string, e Entry) {
	cut := 0
	for cut < len(n.recent) && now-n.recent[cut].at > recentWindow.Milliseconds() {
		cut++
	}
	n.recent = append(n.recent[cut:], recentPut{at: now, key: key, e: e})
}

// idle reports whether this actor has nothing left to send: no news for any peer, no batch
// unacknowledged and no hello unanswered (a dropped server's periodic hello does not count). Once every actor of a cluster is idle, nothing is
// in flight between them but a localSync, which sets off nothing more.
func (n *node) idle() bool {
	return !n.hasNews() && len(n.unacked) == 0 && len(n.joining) == 0 && len(n.strangers) == 0 && len(n.waiters) == 0
}

// hasNews reports whether some peer has a sync waiting.
func (n *node) hasNews() bool {
	if len(n.pendingLocal) > 0 || len(n.acks) > 0 {
		return true
	}
	for _, l := range n.remotes {
		if l.hasNews() {
			return true
		}
	}
	return false
}

// flush puts batches and hellos that went unanswered for ackTimeout back in line, sends the
// pending news to every peer at once if syncInterval has passed since the last sync this actor
// sent, and keeps a timer running while anything is waiting. One cadence for all peers, and
// timer messages at least syncInterval apart, keep every (actor, target) pair under the rate
// limit, the actor's own timer included.
func (n *node) flush() []envelope {
	now := n.now()
	timeout := ackTimeout.Milliseconds()
	var out []envelope
	for s, b := range n.unacked {
		wait := timeout
		if l := n.remotes[b.addr]; l != nil && l.failingSince != 0 {
			wait = failingResend.Milliseconds()
		}
		if now-b.at >= wait {
			if l := n.remotes[b.addr]; l != nil {
				for k, e := range b.entries {
					l.pending.Add(k, e)
				}
				if l.failingSince == 0 || b.at < l.failingSince {
					l.failingSince = b.at
				}
			}
			delete(n.unacked, s)
		}
	}
	for addr, l := range n.remotes {
		if l.failingSince != 0 && now-l.failingSince >= n.dropAfter {
			out = append(out, n.drop(addr, now))
		}
	}
	for addr, at := range n.joining {
		if l := n.remotes[addr]; l != nil && now-at >= timeout {
			if !n.reported[addr] {
				n.reported[addr] = true
				out = append(out, envelope{Report: fmt.Errorf("%w: %s has not answered a hello for %v",
					ErrUnreachable, addr, time.Duration(now-at)*time.Millisecond)})
			}
			out = append(out, n.sayHello(l.desc))
		}
	}
	for addr, st := range n.strangers {
		if now-st.since >= timeout {
			delete(n.strangers, addr)
			out = append(out, n.greetUnknown(st.desc)...)
		}
	}
	out = append(out, n.expire(now)...)
	for _, d := range n.dropped {
		if now-d.lastHello >= rejoinInterval.Milliseconds() {
			d.lastHello = now
			out = append(out, envelope{To: d.desc.ref(0), Msg: helloMsg{Server: n.self, Reply: n.selfRef}})
		}
	}
	interval := syncInterval.Milliseconds()
	news := n.hasNews()
	if news && now-n.lastSync >= interval {
		out = append(out, n.sync(now)...)
		n.lastSync, news = now, false
	}
	if !n.timerArmed && (news || len(n.unacked) > 0 || len(n.joining) > 0 || len(n.strangers) > 0 || len(n.waiters) > 0 || len(n.dropped) > 0) {
		at := max(n.lastTick, now) + interval // polling for acks and answers
		switch {
		case news:
			at = max(n.lastTick, n.lastSync) + interval
		case len(n.unacked) == 0 && len(n.joining) == 0 && len(n.strangers) == 0 && len(n.waiters) == 0: // only dropped servers to greet
			next := int64(1<<62 - 1)
			for _, d := range n.dropped {
				next = min(next, d.lastHello+rejoinInterval.Milliseconds())
			}
			at = max(at, next)
		}
		n.timerArmed, n.lastTick = true, at
		out = append(out, envelope{To: n.selfRef, Msg: tickMsg{}, After: time.Duration(at-now) * time.Millisecond})
	}
	return out
}

// sync sends every peer what waits for it, in one message each. Each other server gets the
// Puts taken here once, at the one of its actors paired with this one (index modulo its
// size), which passes them on inside its server; acknowledgements ride along to the actors
// whose batches they confirm.
func (n *node) sync(now int64) []envelope {
	var out []envelope
	if len(n.pendingLocal) > 0 {
		out = n.toLocals(localSync{Entries: n.pendingLocal})
		n.pendingLocal = delta{}
	}
	msgs := map[actor.ActorRef]*remoteSync{}
	at := func(ref actor.ActorRef) *remoteSync {
		if msgs[ref] == nil {
			msgs[ref] = &remoteSync{From: n.selfRef, Server: n.self}
		}
		return msgs[ref]
	}
	for addr, l := range n.remotes {
		if !l.hasNews() {
			continue
		}
		m := at(*l.desc.ref(n.index % len(l.desc.Counters)))
		if len(l.pending) > 0 {
			n.seq++
			m.Entries, m.Seq = l.pending, n.seq
			n.unacked[n.seq] = sentBatch{addr: addr, at: now, entries: l.pending}
			l.pending = delta{}
		}
		if l.sendSum || l.sendBuckets || l.want != nil {
			d := &digestPart{Sum: n.replica.sum, Want: l.want}
			if l.sendBuckets {
				d.Buckets = append([]uint64(nil), n.replica.buckets[:]...)
			}
			m.Digest = d
			l.sendSum, l.sendBuckets, l.want = false, false, nil
		}
	}
	for ref, seqs := range n.acks {
		at(ref).Acks = seqs
	}
	n.acks = map[actor.ActorRef][]int64{}
	for ref, m := range msgs {
		out = append(out, envelope{To: &ref, Msg: *m})
	}
	return out
}
