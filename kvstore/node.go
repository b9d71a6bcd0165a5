package kvstore

import (
	"time"

	"ds440/actor"
)

const (
	// syncInterval is how often an actor sends what it has gathered: at most one message per
	// interval to each peer keeps every (actor, target) pair under 10 messages per second.
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
// replica and decides what to sync with whom; queryActor only carries out its envelopes.
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
	newcomers     []serverDesc          // servers joined since the last tick: they get recent
	configured    bool
}

func newNode(self *actor.ActorRef, now func() int64) *node {
	return &node{
		selfRef: self, uid: self.Uid(), replica: NewReplica(), now: now,
		remotes: map[string]serverDesc{}, pendingLocal: Delta{}, pendingRemote: Delta{},
	}
}

// handle applies one message and returns what to send.
func (n *node) handle(msg any) []envelope {
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
		n.recent = append(n.recent, recentPut{at: now, key: m.Key, e: e})
		return []envelope{{To: m.Reply, Msg: putResult{}}}
	case localSync:
		for k, e := range m.Entries {
			n.replica.Apply(k, e)
		}
	case remoteSync:
		n.applyForLocals(m.Entries)
	case configMsg:
		return n.configure(m)
	case tickMsg:
		return n.tick()
	case helloMsg:
		return n.hello(m)
	case welcomeMsg:
		n.applyForLocals(m.State)
		var out []envelope
		for _, d := range m.Members {
			if d.Addr != n.self.Addr && n.addRemote(d) {
				// A server this one was not told about: introduce ourselves to it too, and make
				// it known to our other actors.
				out = append(out, envelope{To: d.ref(0), Msg: helloMsg{Server: n.self, Reply: n.selfRef}})
				out = append(out, n.toLocals(joinedMsg{Server: d})...)
			}
		}
		return out
	case joinedMsg:
		n.addRemote(m.Server)
	}
	return nil
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
	n.self, n.index, n.configured = m.Self, m.Index, true
	var out []envelope
	for _, d := range m.Remotes {
		n.addRemote(d)
		if m.Join {
			out = append(out, envelope{To: d.ref(0), Msg: helloMsg{Server: n.self, Reply: n.selfRef}})
		}
	}
	return append(out, envelope{To: n.selfRef, Msg: tickMsg{}, After: syncInterval})
}

// addRemote records a server of the cluster and reports whether it was new. A server that
// joins gets this actor's recent Puts at the next tick, covering any its welcome snapshot missed.
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

// tick sends each peer what it has not seen yet, one message per peer at most, and re-arms the
// timer. Remote servers get this actor's Puts only, each server once: to the one of its actors
// that pairs with this one (index modulo its size), which passes them on inside its server.
func (n *node) tick() []envelope {
	out := []envelope{{To: n.selfRef, Msg: tickMsg{}, After: syncInterval}}
	now := n.now()
	cut := 0
	for cut < len(n.recent) && now-n.recent[cut].at > recentWindow.Milliseconds() {
		cut++
	}
	n.recent = n.recent[cut:]

	if len(n.pendingLocal) > 0 {
		out = append(out, n.toLocals(localSync{Entries: n.pendingLocal})...)
		n.pendingLocal = Delta{}
	}
	newcomer := map[string]bool{}
	for _, d := range n.newcomers {
		newcomer[d.Addr] = true
	}
	n.newcomers = nil
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
