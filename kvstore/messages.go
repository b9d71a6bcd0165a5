package kvstore

import (
	"encoding/gob"

	"ds440/actor"
)

// The messages query actors exchange. Every one is gob-encoded by the actor system, also
// between actors of one server, so they carry only plain data.

// getMsg asks an actor for a key; the answer goes to Reply (a channel ref).
type getMsg struct {
	Key   string
	Reply *actor.ActorRef
}

type getResult struct {
	Value string
	Ok    bool
}

type putMsg struct {
	Key, Value string
	Reply      *actor.ActorRef
}

// putResult acknowledges a Put with the stamp it was taken with.
type putResult struct {
	Stamp Stamp
}

// putNotReplicated answers a Put that fewer than Config.PeerAcks other servers acknowledged
// within Config.PutTimeout: taken here, with Stamp, and held by Holders other servers.
type putNotReplicated struct {
	Stamp   Stamp
	Holders int
}

type listMsg struct {
	Prefix string
	Reply  *actor.ActorRef
}

type listResult struct {
	Entries map[string]string
}

// configMsg gives a freshly started actor its place in the cluster: the other actors of its
// server and the servers that were running when it started.
type configMsg struct {
	Self    serverDesc
	Index   int // this actor's position in Self.Actors
	Remotes []serverDesc
	Join    bool // this actor introduces its server to the Remotes
}

// tickMsg is an actor's own timer: time to send what it has gathered.
type tickMsg struct{}

// keepaliveMsg is told by the server to its first actor every keepaliveInterval: time to send
// every other server its digest (digestPart), so replicas that missed a Put find out and a
// server restarted without descs learns of the cluster.
type keepaliveMsg struct{}

// localSync carries versions to another actor of the same server.
type localSync struct {
	Entries delta
}

// remoteSync carries versions taken on one server to one actor of another, as batch Seq
// (0 if it carries only acknowledgements), and acknowledges the batches the receiver sent to
// the sender.
type remoteSync struct {
	Entries delta
	From    *actor.ActorRef // the sending actor, to acknowledge Seq to
	Server  serverDesc      // the sender's server, for a receiver that does not know it
	Seq     int64
	Acks    []int64
	Digest  *digestPart // anti-entropy, only between the first actors of two servers
}

// digestPart is a step of anti-entropy between the first actors of two servers, riding on a
// remoteSync. Every keepaliveInterval each sends the other its replica's digest (Sum only);
// a receiver whose digest differs answers with its bucket digests (Buckets); the first side
// sends, in the same sync, its versions in the buckets that differ, and names them (Want);
// the other merges them and sends back what it holds newer in those buckets. Replicas that
// agree cost a few bytes a keepalive; the rest grows only with the buckets that differ.
type digestPart struct {
	Sum     uint64
	Buckets []uint64
	Want    []int
}

// helloMsg introduces a starting server to a running one.
type helloMsg struct {
	Server serverDesc
	Reply  *actor.ActorRef // the newcomer's actor to welcome
}

// welcomeMsg answers a hello with the running server's whole state and the servers it knows,
// so a newcomer that knew only one server finds the rest.
type welcomeMsg struct {
	State   delta
	Members []serverDesc
}

// joinedMsg tells the actors of a server that another server has joined the cluster.
type joinedMsg struct {
	Server serverDesc
}

// idleMsg asks an actor whether it has nothing left to send (see node.idle); the answer, a
// bool, goes to Reply.
type idleMsg struct {
	Reply *actor.ActorRef
}

func init() {
	for _, m := range []any{getMsg{}, getResult{}, putMsg{}, putResult{}, putNotReplicated{}, listMsg{}, listResult{},
		configMsg{}, tickMsg{}, keepaliveMsg{}, idleMsg{}, localSync{}, remoteSync{}, helloMsg{}, welcomeMsg{}, joinedMsg{}} {
		gob.Register(m)
	}
}
