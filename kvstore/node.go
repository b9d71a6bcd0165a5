package kvstore

import (
	"time"

	"ds440/actor"
)

const (
	// syncInterval is the least time between two sync messages from one actor to one peer (and
	// between two of its timer messages to itself), so no (actor, target) pair carries more than
	// 1000/150 < 7 messages a second.
	syncInterval = 150 * time.Millisecond
	// recentWindow is how long an actor remembers its own Puts, to hand them to a server that
	// joins: longer than it takes a Put to reach every actor of its own server, so a Put that
	// the joining server's welcome snapshot missed is always still remembered.
	recentWindow = 5 * time.Second
)

// envelope is a message a node wants sent, after a delay if After > 0.
type envelope struct {
	To    *actor.ActorRef
	Msg   any
	After time.Duration
}

type recentPut struct {
	at  int64
	key string
	e   Entry
}

// node is a query actor's logic as plain code: a message in, messages out. It holds the
// replica and decides what to sync with whom, and when; queryActor only carries out its
// envelopes.
//
// News is sent at once if this actor has sent no sync for syncInterval, so
// sparse writes spread with no delay; otherwise it waits in a pending delta until the interval
// has passed, so bursts are batched into one message per peer per interval.
type node struct {
	self    serverDesc
	index   int
	selfRef *actor.ActorRef
	uid     string
	replica *Replica
	now     func() int64 // wall clock, ms

	remotes       map[string]serverDesc // servers of the cluster other than ours, by address
	pendingLocal  Delta                 // news for the other actors of this server
	pendingRemote Delta                 // Puts taken here, for the other servers
	recent        []recentPut           // Puts taken here in the last recentWindow
	newcomers     []serverDesc          // servers joined since the last remote flush: they get recent
	lastSync      int64                 // when this actor last sent a sync to anyone, ms
	timerArmed    bool                  // a tickMsg to self is on its way
}

func newNode(self *actor.ActorRef, now func() int64) *node {
	return &node{
		selfRef: self, uid: self.Uid(), replica: NewReplica(), now: now,
		remotes: map[string]serverDesc{}, pendingLocal: Delta{}, pendingRemote: Delta{},
		lastSync: -1 << 62,
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
	case putMsg:
		now := n.now()
		e := n.replica.Put(m.Key, m.Value, now, n.uid)
		n.pendingLocal.Add(m.Key, e)
		n.pendingRemote.Add(m.Key, e)
		n.remember(now, m.Key, e)
		out = append(out, envelope{To: m.Reply, Msg: putResult{}})
	case localSync:
		for k, e := range m.Entries {
			n.replica.Apply(k, e)
		}
		return nil
	case remoteSync:
		n.applyForLocals(m.Entries)
	case configMsg:
		out = n.configure(m)
	case tickMsg:
		n.timerArmed = false
	case helloMsg:
		out = n.hello(m)
	case welcomeMsg:
		n.applyForLocals(m.State)
		for _, d := range m.Members {
			if d.Addr != n.self.Addr && n.addRemote(d) {
				// A server this one was not told about: introduce ourselves to it too, and make
				// it known to our other actors.
				out = append(out, envelope{To: d.ref(0), Msg: helloMsg{Server: n.self, Reply: n.selfRef}})
				out = append(out, n.toLocals(joinedMsg{Server: d})...)
			}
		}
	case joinedMsg:
		n.addRemote(m.Server)
	default:
		return nil
	}
	return append(out, n.flush()...)
}

// applyForLocals merges versions that came from another server and passes the news on to
// this server's other actors (never back to other servers: the writer's server sends them).
func (n *node) applyForLocals(d Delta) {
	for k, e := range d {
		if n.replica.Apply(k, e) {
			n.pendingLocal.Add(k, e)
		}
	}
}

func (n *node) configure(m configMsg) []envelope {
	n.self, n.index = m.Self, m.Index
	var out []envelope
	for _, d := range m.Remotes {
		if d.Addr != n.self.Addr && len(d.Counters) > 0 {
			n.remotes[d.Addr] = d // known from the start: nothing of ours to catch up on
		}
		if m.Join {
			out = append(out, envelope{To: d.ref(0), Msg: helloMsg{Server: n.self, Reply: n.selfRef}})
		}
	}
	return out
}

// addRemote records a server of the cluster and reports whether it was new. A server that
// joins gets this actor's recent Puts with the next remote sync, covering any its welcome
// snapshot missed.
func (n *node) addRemote(d serverDesc) bool {
	if _, ok := n.remotes[d.Addr]; ok || d.Addr == n.self.Addr || len(d.Counters) == 0 {
		return false
	}
	n.remotes[d.Addr] = d
	n.newcomers = append(n.newcomers, d)
	return true
}

// hello welcomes a joining server with this replica's state and tells this server's other
// actors about it, so all of them send it their Puts from now on.
func (n *node) hello(m helloMsg) []envelope {
	members := []serverDesc{n.self}
	for _, d := range n.remotes {
		members = append(members, d)
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

// remember records a Put taken here and forgets those older than recentWindow.
func (n *node) remember(now int64, key string, e Entry) {
	cut := 0
	for cut < len(n.recent) && now-n.recent[cut].at > recentWindow.Milliseconds() {
		cut++
	}
	n.recent = append(n.recent[cut:], recentPut{at: now, key: key, e: e})
}

// flush sends the pending news to every peer at once if syncInterval has passed since the
// last sync this actor sent, and otherwise arms the timer for when it will have. One cadence
// for all peers keeps both each peer's syncs and this actor's own timer messages at least
// syncInterval apart: with one clock per group of peers, two groups out of phase would need
// two timer messages per interval, more than 10 a second to itself.
func (n *node) flush() []envelope {
	if len(n.remotes) == 0 {
		n.pendingRemote = Delta{} // nobody to send to; recent keeps them for a server that joins
	}
	if len(n.pendingLocal) == 0 && len(n.pendingRemote) == 0 && len(n.newcomers) == 0 {
		return nil
	}
	now := n.now()
	if left := syncInterval.Milliseconds() - (now - n.lastSync); left > 0 {
		if n.timerArmed {
			return nil
		}
		n.timerArmed = true
		return []envelope{{To: n.selfRef, Msg: tickMsg{}, After: time.Duration(left) * time.Millisecond}}
	}
	var out []envelope
	if len(n.pendingLocal) > 0 {
		out = n.toLocals(localSync{Entries: n.pendingLocal})
		n.pendingLocal = Delta{}
	}
	out = append(out, n.flushRemote()...)
	if len(out) > 0 {
		n.lastSync = now
	}
	return out
}

// flushRemote sends each other server the Puts taken here, once per server: to the one of its
// actors paired with this one (index modulo its size), which passes them on inside its server.
// A server that joined since the last flush also gets the recent Puts.
func (n *node) flushRemote() []envelope {
	newcomer := map[string]bool{}
	for _, d := range n.newcomers {
		newcomer[d.Addr] = true
	}
	n.newcomers = nil

	var out []envelope
	for addr, d := range n.remotes {
		batch := n.pendingRemote
		if newcomer[addr] {
			batch = Delta{}
			for _, r := range n.recent {
				batch.Add(r.key, r.e)
			}
			for k, e := range n.pendingRemote {
				batch.Add(k, e)
			}
		}
		if len(batch) > 0 {
			out = append(out, envelope{To: d.ref(n.index % len(d.Counters)), Msg: remoteSync{Entries: batch}})
		}
	}
	n.pendingRemote = Delta{}
	return out
}
